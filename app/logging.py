"""Structured logs: JSON in production, readable on a console, a request id on each line.

Library logs (uvicorn, APScheduler, SQLAlchemy) go through the same renderer, so a JSON
deployment emits nothing but JSON lines.
"""

from __future__ import annotations

import logging
import sys

import structlog


def configure_logging(level: str = "INFO", fmt: str = "console") -> None:
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    numeric = logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
    structlog.configure(
        # Level filtering is the stdlib logger's (cheap, first), so reconfiguring the level
        # takes effect for loggers already cached.
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        wrapper_class=structlog.stdlib.BoundLogger,
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                renderer,
            ],
        )
    )
    handler._club_renewal = True  # type: ignore[attr-defined]
    root = logging.getLogger()
    # Replace our own handler on reconfiguration; leave others (e.g. test capture) alone.
    root.handlers = [h for h in root.handlers if not getattr(h, "_club_renewal", False)]
    root.addHandler(handler)
    root.setLevel(numeric)
    # APScheduler narrates every add/run at INFO; keep its warnings and errors.
    logging.getLogger("apscheduler").setLevel(max(numeric, logging.WARNING))
    # Driver debug logs print statement parameters (personal data) and httpx logs full
    # outbound URLs (which may carry credentials): never below WARNING.
    for noisy in ("aiosqlite", "asyncpg", "sqlalchemy.engine", "httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(max(numeric, logging.WARNING))
