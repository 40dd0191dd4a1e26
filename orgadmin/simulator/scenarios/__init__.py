"""Seeded scenarios: `demo` (a believable mid-size company) and `large` (for benchmarks).

Everything is anchored on "now": the scenario always has 13 months of history up to today.
For a fixed seed and a fixed `now`, two builds are identical.

`builder.build()` runs the steps in a fixed order, one random generator throughout: the people
(`people`: users, roles, invites, groups), the directory (`directory`: projects, members,
service accounts, keys, certificates, rate limits, settings), the usage streams (`usage`), the
audit history (`history`) and the hygiene problems made sure of (`hygiene`, with a generator of
its own). `base` holds the sizes and what every step shares.
"""
