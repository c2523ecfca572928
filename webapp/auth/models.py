"""Departments, staff users and their groups.

Group codes are what diagrams name as candidate groups: `registratura`, `primar`,
`sef-<department>` (head), `dept-<department>` (clerks), `admin`, `analist`.
"""
from datetime import datetime
from typing import Optional

from sqlalchemy import Boolean, DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from connectors.db import Base


class Department(Base):
    __tablename__ = "department"

    code: Mapped[str] = mapped_column(String(50), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))


class User(Base):
    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    department_code: Mapped[Optional[str]] = mapped_column(ForeignKey("department.code"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Set for staff whose account comes from the directory (LDAP / Active Directory):
    # they log in with the directory's password, never a local one.
    directory_dn: Mapped[Optional[str]] = mapped_column(String(500))
    # Base32 secret of the optional second factor (TOTP), once the user enrolled.
    totp_secret: Mapped[Optional[str]] = mapped_column(String(64))

    department: Mapped[Optional[Department]] = relationship(lazy="joined")
    memberships: Mapped[list["UserGroup"]] = relationship(cascade="all, delete-orphan",
                                                          lazy="selectin")

    @property
    def groups(self) -> frozenset[str]:
        return frozenset(m.group_code for m in self.memberships)


class UserGroup(Base):
    __tablename__ = "user_group"

    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), primary_key=True)
    group_code: Mapped[str] = mapped_column(String(100), primary_key=True, index=True)


class LoginFailure(Base):
    """A failed login, kept for throttling (webapp/auth/throttle.py)."""
    __tablename__ = "login_failure"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(100), index=True)
    ip: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(DateTime, index=True)
