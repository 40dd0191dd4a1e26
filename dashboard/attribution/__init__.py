"""Cost per person, key, model, project and service tier: usage × the unit prices the bill itself
charged (or a price table), reconciled to the bill to the pico-dollar (see selectors.py)."""
