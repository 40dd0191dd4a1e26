"""Deterministic usage and cost generator, computed on request.

The unit of generation is a *stream*: one full combination of a family's dimensions (for
completions: project, user, API key, model, batch, service tier). For every stream and UTC day
a seeded generator gives integer daily values of the family's *leaf* metrics (weekday
seasonality, growth, noise, a few one-day spikes). A day's activity is then spread over at most
`CHUNKS` instants of that day (seeded, following an hour-of-day profile); chunk `j` of `n` carries
`floor(V*(j+1)/n) - floor(V*j/n)` of each leaf value `V`. Any time window therefore holds an
exact integer share of each value, so totals agree across bucket widths (1m/1h/1d) and, since
coarser `group_by` results are sums of streams, across `group_by` choices too. Derived metrics
(e.g. `input_tokens`) are sums of leaves, so their identities hold at every granularity.

Only what a request asks for is computed; day values and chunk instants are cached per
(family, day). Usage after `now` does not exist yet: the current buckets grow as time passes.

Costs are usage times the price table below, daily, in integer pico-dollars (10^-12 USD), so
they reconcile exactly; `amount.value` is reported as float dollars.
"""
