from __future__ import annotations

import uuid

import pytest

from app.core.etags import check_if_match, etag_for
from app.errors import PreconditionFailed, PreconditionRequired

ID = uuid.UUID("01a20476-44f4-7faf-b0ff-b62c6c3ec22b")


def test_matching_etag_passes() -> None:
    check_if_match(etag_for(ID, 3), ID, 3, required=True)
    check_if_match(f'W/{etag_for(ID, 3)}, "other"', ID, 3, required=True)
    check_if_match("*", ID, 3, required=True)


def test_stale_etag_is_412() -> None:
    with pytest.raises(PreconditionFailed) as exc:
        check_if_match(etag_for(ID, 2), ID, 3, required=False)
    assert exc.value.status == 412
    assert exc.value.code == "precondition_failed"


def test_missing_if_match_is_428_only_when_required() -> None:
    check_if_match(None, ID, 3, required=False)
    with pytest.raises(PreconditionRequired) as exc:
        check_if_match(None, ID, 3, required=True)
    assert exc.value.status == 428
