"""Messages outbox: SMS and e-mail to members, through the contact policy and a provider."""
