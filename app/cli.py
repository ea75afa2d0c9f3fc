"""The `club-renewal` command."""

from __future__ import annotations

import asyncio
import sys
import uuid
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from app.config import get_settings

if TYPE_CHECKING:
    from app.demo.seed import DemoResult

cli = typer.Typer(
    name="club-renewal",
    help="club-renewal: retention backend for fitness clubs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
token_cli = typer.Typer(help="Create, list and revoke API tokens.", no_args_is_help=True)
cli.add_typer(token_cli, name="token")


def _fail(message: str, code: int = 1) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


async def _migrate() -> str | None:
    from app.db import Database
    from app.migrate import current_revision, upgrade

    db = Database.from_settings(get_settings())
    try:
        await upgrade(db.engine)
        return await current_revision(db.engine)
    finally:
        await db.dispose()


async def _require_migrated() -> None:
    from app.db import Database
    from app.migrate import is_at_head

    db = Database.from_settings(get_settings())
    try:
        if not await is_at_head(db.engine):
            _fail("the database is not migrated; run `club-renewal migrate` first")
    finally:
        await db.dispose()


@cli.command()
def migrate() -> None:
    """Upgrade the database schema to the latest migration."""
    try:
        rev = asyncio.run(_migrate())
    except Exception as exc:
        _fail(f"migration failed: {type(exc).__name__}: {exc}")
    typer.echo(f"database at revision {rev}")


async def _token_count() -> int:
    from sqlalchemy import func, select

    from app.db import Database
    from app.models import ApiToken

    db = Database.from_settings(get_settings())
    try:
        async with db.sessionmaker() as s:
            return int(await s.scalar(select(func.count()).select_from(ApiToken)) or 0)
    finally:
        await db.dispose()


async def _demo(*, only_if_empty: bool) -> DemoResult | None:
    """Build the demo club. `only_if_empty`: skip (None) when the database holds a club."""
    from app.db import Database
    from app.demo.seed import build, is_empty

    db = Database.from_settings(get_settings())
    try:
        if only_if_empty:
            async with db.sessionmaker() as s:
                if not await is_empty(s):
                    return None
        return await build(db)
    finally:
        await db.dispose()


def _print_demo(result: DemoResult) -> None:
    typer.echo(result.summary(), err=True)
    typer.echo("Staff tokens (role, name, token), each shown only once:", err=True)
    for st in result.staff:
        typer.echo(f"{st.role}\t{st.name}\t{st.token}")
    typer.echo("Admin token (last line):", err=True)
    typer.echo(result.admin_token)


@cli.command("demo-data")
def demo_data() -> None:
    """Build a demo club (Europe/Moscow, RUB) into an EMPTY database: plans, promotions,
    staff with tokens, ~300 members, memberships, freezes and a year of check-ins.
    Prints the staff tokens and, as the last line, an admin token. Refuses (exit 2) when
    the database already holds a club."""
    from app.demo.seed import DemoRefused

    try:
        asyncio.run(_migrate())
        result = asyncio.run(_demo(only_if_empty=False))
    except DemoRefused as exc:
        _fail(str(exc), 2)
    assert result is not None
    _print_demo(result)


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    reload: Annotated[bool, typer.Option(help="Reload on code changes (development).")] = False,
    demo: Annotated[
        bool,
        typer.Option(help="On an empty database, build the demo club first (see demo-data)."),
    ] = False,
) -> None:
    """Migrate the database if needed, then serve the API (with the embedded scheduler
    unless CLUB_RENEWAL_SCHEDULER=off)."""
    import uvicorn

    try:
        rev = asyncio.run(_migrate())
    except Exception as exc:
        _fail(f"migration failed: {type(exc).__name__}: {exc}")
    typer.echo(f"database at revision {rev}", err=True)
    if demo:
        result = asyncio.run(_demo(only_if_empty=True))
        if result is None:
            typer.echo("--demo: the database already holds a club; serving it as is.", err=True)
        else:
            _print_demo(result)
    if asyncio.run(_token_count()) == 0:
        typer.echo(
            "No API tokens yet. Create an admin token with:\n"
            '  club-renewal token create --role admin --name "Your Name"\n'
            f"then open http://{host}:{port}/docs and press Authorize.",
            err=True,
        )
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=None if reload else workers,
        reload=reload,
        proxy_headers=True,
        log_level="warning",
    )


@cli.command()
def worker() -> None:
    """Run only the scheduler (use with several API replicas and CLUB_RENEWAL_SCHEDULER=off)."""
    from app.db import Database
    from app.integrations import runtime as integrations
    from app.logging import configure_logging
    from app.scheduler import run_worker

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)

    async def _main() -> None:
        await _require_migrated()
        db = Database.from_settings(settings)
        await integrations.start(settings)
        try:
            await run_worker(db)
        finally:
            await integrations.stop()
            await db.dispose()

    asyncio.run(_main())


async def _create_token(role: str, name: str, club_ids: list[uuid.UUID]) -> str:
    from app.auth.permissions import Role
    from app.auth.service import auth_service
    from app.db import Database
    from app.staff.schemas import StaffCreate
    from app.staff.service import staff_service

    await _require_migrated()
    db = Database.from_settings(get_settings())
    try:
        async with db.session_scope() as s:
            staff = await staff_service.create(
                s, None, StaffCreate(name=name, roles=[Role(role)], club_ids=club_ids)
            )
            _, raw = await auth_service.issue_staff_token(
                s, None, staff, name=f"cli token for {name}", scopes=None
            )
            return raw
    finally:
        await db.dispose()


@token_cli.command("create")
def token_create(
    role: Annotated[
        str, typer.Option(help="admin, manager, caller, consultant, front_desk, trainer.")
    ],
    name: Annotated[str, typer.Option(help="The person's name.")],
    club: Annotated[list[str] | None, typer.Option(help="Club id (repeat); not for admin.")] = None,
) -> None:
    """Create a staff member with ROLE and print a new token for them (last line)."""
    from pydantic import ValidationError

    from app.auth.permissions import Role
    from app.errors import AppError

    if role not in Role._value2member_map_:
        _fail(f"unknown role {role!r}; one of: {', '.join(r.value for r in Role)}", 2)
    try:
        club_ids = [uuid.UUID(c) for c in club or []]
    except ValueError:
        _fail("--club must be a club id (UUID)", 2)
    try:
        raw = asyncio.run(_create_token(role, name, club_ids))
    except (AppError, ValidationError) as exc:
        _fail(str(exc), 2)
    typer.echo(f"Created a token for {name} (role {role}). It is shown only once:", err=True)
    typer.echo(raw)


async def _list_tokens() -> list[tuple[str, str, str, str, str]]:
    from sqlalchemy import select

    from app.db import Database
    from app.models import ApiToken

    await _require_migrated()
    db = Database.from_settings(get_settings())
    try:
        async with db.sessionmaker() as s:
            rows = (await s.scalars(select(ApiToken).order_by(ApiToken.created_at))).all()
            return [
                (str(t.id), t.kind, t.name, t.prefix, "revoked" if t.revoked_at else "active")
                for t in rows
            ]
    finally:
        await db.dispose()


@token_cli.command("list")
def token_list() -> None:
    """List tokens (never their secrets)."""
    for row in asyncio.run(_list_tokens()):
        typer.echo("\t".join(row))


async def _revoke(token_id: uuid.UUID) -> bool:
    from app.auth import repository
    from app.auth.service import auth_service
    from app.core.clock import utcnow
    from app.db import Database

    await _require_migrated()
    db = Database.from_settings(get_settings())
    try:
        async with db.session_scope() as s:
            token = await repository.get(s, token_id)
            if token is None:
                return False
            await auth_service.revoke(s, None, token, utcnow())
            return True
    finally:
        await db.dispose()


@token_cli.command("revoke")
def token_revoke(token_id: Annotated[str, typer.Argument(help="Token id.")]) -> None:
    """Revoke a token at once."""
    try:
        tid = uuid.UUID(token_id)
    except ValueError:
        _fail("token id must be a UUID", 2)
    if not asyncio.run(_revoke(tid)):
        _fail("no such token")
    typer.echo(f"revoked {tid}")


_IMPORT_HELP = (
    "Import check-ins from a CSV or NDJSON file into a club; safe to re-run.\n\n"
    "Rows need member_id or card_number, and checked_in_at; club_id and source default to "
    "--club and turnstile. Rows without device ids get an id derived from their content, so "
    "importing the same file again adds nothing.\n\n"
    "Exit codes: 0 every row imported or already present; 1 some rows rejected (listed); "
    "2 nothing imported (bad arguments, unknown club, bad CSV header, database not "
    "migrated); 3 the import failed part way (committed chunks stay; re-running is safe)."
)


@cli.command("import-checkins", help=_IMPORT_HELP)
def import_checkins(
    file: Annotated[Path, typer.Argument(help="CSV or NDJSON export of the access system.")],
    club: Annotated[str, typer.Option(help="Club id (UUID) the visits belong to.")],
    format: Annotated[
        str | None,
        typer.Option("--format", help="csv or ndjson; default from the file suffix."),
    ] = None,
) -> None:
    """Import check-ins from a CSV or NDJSON file into a club; safe to re-run."""
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn

    from app.checkins.importer import format_of, import_file
    from app.checkins.service import IngestReport
    from app.db import Database
    from app.errors import AppError
    from app.migrate import is_at_head

    try:
        club_id = uuid.UUID(club)
    except ValueError:
        _fail("--club must be a club id (UUID)", 2)
    if not file.is_file():
        _fail(f"no such file: {file}", 2)
    fmt = format_of(file, format)
    if fmt is None:
        _fail("say --format csv or --format ndjson (the suffix does not tell)", 2)
    assert fmt is not None
    settings = get_settings()
    console = Console(stderr=True)

    async def _run() -> IngestReport:
        db = Database.from_settings(settings)
        try:
            if not await is_at_head(db.engine):
                _fail("the database is not migrated; run `club-renewal migrate` first", 2)
            with Progress(
                TextColumn("[bold]importing"),
                BarColumn(),
                DownloadColumn(),
                TextColumn("{task.fields[rows]} rows"),
                console=console,
            ) as bar:
                task = bar.add_task("import", total=file.stat().st_size, rows=0)

                def progress(done: int, report: IngestReport) -> None:
                    bar.update(task, completed=done, rows=f"{report.rows:,}")

                return await import_file(
                    db,
                    file,
                    club_id=club_id,
                    fmt=fmt,
                    chunk_rows=settings.checkin_batch_chunk_rows,
                    progress=progress,
                )
        finally:
            await db.dispose()

    try:
        report = asyncio.run(_run())
    except AppError as exc:
        _fail(f"{exc.detail} ({exc.code}); nothing was imported", 2)
    except (typer.Exit, KeyboardInterrupt):
        raise
    except Exception as exc:
        _fail(
            f"import failed: {type(exc).__name__}: {exc}. Chunks committed so far are kept; "
            "re-running the same file is safe.",
            3,
        )
    typer.echo(
        f"{report.rows:,} rows read: {report.accepted:,} imported, "
        f"{report.duplicates:,} already present, {report.rejected_count:,} rejected"
    )
    for r in report.rejected[:20]:
        typer.echo(f"  line {r.line}: {r.code}: {r.detail}")
    if report.rejected_count > 20:
        typer.echo(f"  ... and {report.rejected_count - 20:,} more")
    if report.rejected_count:
        raise typer.Exit(1)


async def _scan(club_id: uuid.UUID | None, as_of: datetime | None) -> dict[str, int]:
    from app.core.clock import utcnow
    from app.db import Database
    from app.risk.jobs import run_scan

    await _require_migrated()
    db = Database.from_settings(get_settings())
    try:
        counts = await run_scan(db, as_of or utcnow(), club_id=club_id)
        return counts.as_dict()
    finally:
        await db.dispose()


@cli.command()
def scan(
    club: Annotated[
        str | None, typer.Option(help="Only this club id; default: every club.")
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Scan as if it were this instant (ISO 8601 with offset)."),
    ] = None,
) -> None:
    """Run the lapse scan now: every active club (or --club) for its current local day.
    Scanning the same day again replaces that day's assessments."""
    from app.errors import AppError

    club_id = at = None
    try:
        club_id = uuid.UUID(club) if club else None
    except ValueError:
        _fail("--club must be a club id (UUID)", 2)
    if as_of:
        try:
            at = datetime.fromisoformat(as_of)
        except ValueError:
            _fail("--as-of must be an ISO 8601 instant, e.g. 2026-03-10T05:00:00+03:00", 2)
        if at is None or at.tzinfo is None:
            _fail("--as-of needs a UTC offset, e.g. 2026-03-10T05:00:00+03:00", 2)
    try:
        counts = asyncio.run(_scan(club_id, at))
    except AppError as exc:
        _fail(exc.detail, 2)
    typer.echo(" ".join(f"{k}={v}" for k, v in counts.items()))


def main() -> None:
    try:
        cli()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
