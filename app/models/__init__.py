"""Every table, imported here so Alembic and the mappers see the whole schema."""

from app.core.models import Base
from app.models.api_token import ApiToken
from app.models.audit_entry import AuditEntry
from app.models.campaign import Campaign, CampaignRecipient
from app.models.checkin import Checkin
from app.models.club import Club
from app.models.club_day_run import ClubDayRun
from app.models.event import Event
from app.models.feedback import Feedback
from app.models.idempotency_key import IdempotencyKey
from app.models.instance_setting import InstanceSetting
from app.models.job_run import JobLock, JobRun
from app.models.meeting import Meeting
from app.models.member import ConsentEvent, Member, MemberNote
from app.models.membership import Freeze, Membership
from app.models.message import Message
from app.models.onboarding import Onboarding, OnboardingItem, VisitPlanSlot, WellnessTest
from app.models.outreach import (
    CallAttempt,
    Complaint,
    Playbook,
    PlaybookEffect,
    PlaybookStep,
    ServiceCall,
)
from app.models.plan import Plan
from app.models.promotion import Promotion, PromotionUse
from app.models.referral import Referral
from app.models.risk_assessment import RiskAssessment
from app.models.staff import Staff, staff_clubs
from app.models.webhook import WebhookDelivery, WebhookSubscription
from app.models.working_hours import WorkingHours, WorkingHoursException

__all__ = [
    "ApiToken",
    "CallAttempt",
    "AuditEntry",
    "Base",
    "Campaign",
    "CampaignRecipient",
    "Checkin",
    "Club",
    "Complaint",
    "ClubDayRun",
    "ConsentEvent",
    "Event",
    "Feedback",
    "Freeze",
    "IdempotencyKey",
    "InstanceSetting",
    "JobLock",
    "JobRun",
    "Meeting",
    "Member",
    "MemberNote",
    "Membership",
    "Message",
    "Onboarding",
    "OnboardingItem",
    "Plan",
    "Playbook",
    "PlaybookEffect",
    "PlaybookStep",
    "Promotion",
    "PromotionUse",
    "Referral",
    "RiskAssessment",
    "ServiceCall",
    "Staff",
    "VisitPlanSlot",
    "WebhookDelivery",
    "WebhookSubscription",
    "WellnessTest",
    "WorkingHours",
    "WorkingHoursException",
    "staff_clubs",
]
