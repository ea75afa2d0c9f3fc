from __future__ import annotations

from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import InstanceSetting


async def ping(session: AsyncSession) -> None:
    await session.execute(text("SELECT 1"))


async def get_or_create_setting(session: AsyncSession, key: str, value: str) -> str:
    existing = await session.scalar(select(InstanceSetting.value).where(InstanceSetting.key == key))
    if existing is not None:
        return existing
    try:
        async with session.begin_nested():
            session.add(InstanceSetting(key=key, value=value))
        return value
    except IntegrityError:  # another replica created it first
        found = await session.scalar(
            select(InstanceSetting.value).where(InstanceSetting.key == key)
        )
        assert found is not None
        return found
