"""The usage sync: `usage` runs it (windows, options, streams), `writer` stores its pages.

The run record, its lock and watermarks are `orgadmin.sync.runs`. This package re-exports nothing.
"""
