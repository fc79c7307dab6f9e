"""Time in Europe/Warsaw for people, UTC in the database."""
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

WARSAW = ZoneInfo("Europe/Warsaw")


def now_local() -> datetime:
    """Now on a Poznań wall clock, naive (as a datetime-local input gives it)."""
    return datetime.now(WARSAW).replace(tzinfo=None, microsecond=0)


def today_local() -> date:
    return now_local().date()


def local_to_utc(value: datetime) -> datetime:
    """A naive Warsaw wall-clock time -> naive UTC for storage."""
    return value.replace(tzinfo=WARSAW).astimezone(timezone.utc).replace(tzinfo=None)


def utc_to_local(value: datetime) -> datetime:
    return value.replace(tzinfo=timezone.utc).astimezone(WARSAW).replace(tzinfo=None)


def local_day_bounds_utc(day: date) -> tuple[datetime, datetime]:
    """[start, end) of a Warsaw calendar day, in naive UTC."""
    start = datetime.combine(day, datetime.min.time())
    return local_to_utc(start), local_to_utc(start + timedelta(days=1))
