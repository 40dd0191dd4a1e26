"""Key and access hygiene: findings after each directory and usage sync, their outcomes (fix,
accept with a reason and an expiry, ignore), and bulk revocation of keys with a preview."""
