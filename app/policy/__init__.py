"""Contact policy: the one place that decides whether a member may be contacted."""
