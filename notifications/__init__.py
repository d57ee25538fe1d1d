"""E-mail: the Dutch texts of every message, and the sender that delivers the outbox over SMTP."""
