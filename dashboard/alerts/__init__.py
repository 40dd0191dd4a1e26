"""Alert channels: where alerts go (Slack, Teams, Discord, email, signed webhooks), and every
delivery and attempt. `dashboard.alerts.services.notify(...)` is the one way to send."""
