from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import Date, Float, ForeignKey, Index, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.models import Base


class RiskAssessment(Base):
    """One member's lapse risk on one club-local scan day; the history is kept.

    The primary key (member_id, scan_date) is what makes the scan idempotent: a second
    run for the same day upserts the same rows (`INSERT ... ON CONFLICT DO UPDATE`).
    The numbers behind the score are kept as columns so a briefing or an analyst can
    see why without re-running anything.
    """

    __tablename__ = "risk_assessments"
    __table_args__ = (
        # The risk list: one club's latest scan day, highest score first (keyset).
        Index(
            "ix_risk_assessments_club_id_scan_date_score_member_id",
            "club_id",
            "scan_date",
            "score",
            "member_id",
        ),
    )

    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("members.id"), primary_key=True)
    scan_date: Mapped[date] = mapped_column(Date(), primary_key=True)
    club_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clubs.id"))
    membership_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("memberships.id"))
    assessed_at: Mapped[datetime]
    score: Mapped[int] = mapped_column(SmallInteger)
    # ok | watch | at_risk | lapsed
    level: Mapped[str] = mapped_column(String(16))
    # active | sleeper
    segment: Mapped[str] = mapped_column(String(16))
    # do_not_contact | frozen | renewed | renewal_booked | new_member; null: on the call list
    suppressed: Mapped[str | None] = mapped_column(String(32))
    reasons: Mapped[list[str]]
    last_visit_at: Mapped[datetime | None]
    gap_days: Mapped[int] = mapped_column(Integer)  # days without a visit, frozen days excluded
    usual_visits_per_week: Mapped[float] = mapped_column(Float)
    visits_last_4_weeks: Mapped[int] = mapped_column(Integer)
    visits_previous_8_weeks: Mapped[int] = mapped_column(Integer)
    visits_first_3_weeks: Mapped[int | None] = mapped_column(Integer)
    tenure_days: Mapped[int] = mapped_column(Integer)
    days_to_end: Mapped[int] = mapped_column(Integer)
    # True once `member.at_risk` was emitted for this row: a re-run never emits twice.
    notified: Mapped[bool] = mapped_column(default=False)
