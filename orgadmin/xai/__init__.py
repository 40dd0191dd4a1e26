"""xAI (Grok) Management API: its client, types, ACL helpers and local simulator."""
