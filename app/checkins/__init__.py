"""Check-ins: the visit log fed by turnstiles, front desks and apps, and attendance."""
