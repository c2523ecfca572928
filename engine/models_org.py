"""Who stands in for whom: absences with a substitute, and signing delegations."""
from datetime import date, datetime
from typing import Optional

from sqlalchemy import Boolean, Date, DateTime, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from connectors.db import Base, utcnow


class Absence(Base):
    """A clerk on leave: the substitute receives their tasks for the period."""
    __tablename__ = "absence"
    __table_args__ = (Index("ix_absence_user_period", "username", "starts_on", "ends_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100))
    substitute: Mapped[str] = mapped_column(String(100), index=True)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(300), default="")
    created_by: Mapped[Optional[str]] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)


class SigningDelegation(Base):
    """A written delegation (*dispoziție de delegare*) to sign for the mayor."""
    __tablename__ = "signing_delegation"
    __table_args__ = (Index("ix_signing_delegation_holder", "holder", "starts_on", "ends_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    holder: Mapped[str] = mapped_column(String(100))
    act_reference: Mapped[str] = mapped_column(String(100))   # "Dispoziția nr. 12/2026"
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    scope: Mapped[str] = mapped_column(String(300), default="")
    created_by: Mapped[Optional[str]] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)
