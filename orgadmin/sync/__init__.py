"""The syncs: what copies the organization's data from the provider into our database.

One module a kind, named alike in both apps: `orgadmin.sync.audit` (the audit log),
`orgadmin.sync.directory` (members, projects, keys, …) and `dashboard.sync.usage` (usage and
costs). They share `orgadmin.sync.runs`: the run record, its lock and lease, watermarks, and what
the API refused. Import from the modules; this package re-exports nothing.
"""
