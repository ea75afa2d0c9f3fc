from tests.fixtures.meetings import consultant, desk_token, frozen_now, member

# Imported fixtures apply to this package; `frozen_now` is autouse.
__all__ = ["consultant", "desk_token", "frozen_now", "member"]
