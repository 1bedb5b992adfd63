"""The service's subcommands of ``redflags``: ``serve``, ``db upgrade`` and ``keys``."""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING, Any

from app.settings import Settings, get_settings

if TYPE_CHECKING:
    from app.storage import ApiKeyStore


def add_service_commands(commands: Any) -> None:
    """Register the subcommands on the main parser's ``add_subparsers()`` object."""
    serve = commands.add_parser("serve", help="run the web service and API (uvicorn)")
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default 8000)")
    serve.add_argument(
        "--workers", type=int, help="worker processes (default REDFLAGS_WORKERS or 1)"
    )
    serve.add_argument(
        "--processes",
        type=int,
        help="analysis processes per worker (default REDFLAGS_ANALYSIS_PROCESSES or 0: threads)",
    )
    serve.set_defaults(handler=_serve)

    db = commands.add_parser("db", help="manage the database")
    db_commands = db.add_subparsers(required=True, metavar="ACTION")
    db_upgrade = db_commands.add_parser("upgrade", help="apply the migrations (to the latest)")
    db_upgrade.set_defaults(handler=_db_upgrade)

    keys = commands.add_parser("keys", help="create, list and revoke API keys")
    key_commands = keys.add_subparsers(required=True, metavar="ACTION")
    create = key_commands.add_parser("create", help="make a key; it is shown only this once")
    create.add_argument("name", help="who or what the key is for")
    create.set_defaults(handler=_keys_create)
    revoke = key_commands.add_parser("revoke", help="revoke a key by its id")
    revoke.add_argument("key_id")
    revoke.set_defaults(handler=_keys_revoke)
    listing = key_commands.add_parser("list", help="every key (never the key itself)")
    listing.set_defaults(handler=_keys_list)


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn  # only this command needs it

    if args.processes is not None:
        if args.processes < 0:
            print("redflags: --processes must be 0 or more", file=sys.stderr)
            return 2
        # The app is built by uvicorn (in each worker) from the environment's settings.
        os.environ["REDFLAGS_ANALYSIS_PROCESSES"] = str(args.processes)
        get_settings.cache_clear()
    # Migrate once here, before the workers start, so they never race to do it.
    _db_upgrade(args, settings)
    uvicorn.run(
        "app.service.factory:create_app",
        factory=True,
        host=args.host or settings.host,
        port=args.port or settings.port,
        workers=args.workers or settings.workers,
        # uvicorn believes X-Forwarded-For from 127.0.0.1 by default, which let any local
        # client rotate the header for a fresh rate-limit allowance: only configured proxies.
        proxy_headers=bool(settings.forwarded_allow_ips),
        forwarded_allow_ips=",".join(settings.forwarded_allow_ips) or "",
    )
    return 0


def _db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    from app.storage import make_engine, upgrade  # SQLAlchemy and Alembic: for these commands only

    engine = make_engine(settings.sqlalchemy_url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    print(f"database is up to date ({engine.url.render_as_string(hide_password=True)})")
    return 0


def _key_store(settings: Settings) -> ApiKeyStore:
    from app.storage import ApiKeyStore, make_engine, upgrade

    engine = make_engine(settings.sqlalchemy_url)
    upgrade(engine)
    return ApiKeyStore(engine)


def _keys_create(args: argparse.Namespace, settings: Settings) -> int:
    key, plaintext = _key_store(settings).create(args.name)
    print(f"id:   {key.id}")
    print(f"name: {key.name}")
    print(f"key:  {plaintext}")
    print("Store the key now: only its hash is kept, so it cannot be shown again.")
    return 0


def _keys_revoke(args: argparse.Namespace, settings: Settings) -> int:
    if _key_store(settings).revoke(args.key_id):
        print(f"key {args.key_id} is revoked")
        return 0
    print(f"redflags: no key has the id {args.key_id!r}", file=sys.stderr)
    return 1


def _keys_list(args: argparse.Namespace, settings: Settings) -> int:
    keys = _key_store(settings).list()
    for key in keys:
        state = f"revoked {key.revoked_at:%Y-%m-%d}" if key.revoked_at else "active"
        used = f"{key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "never"
        print(f"{key.id}  {state:<18} created {key.created_at:%Y-%m-%d}  used {used}  {key.name}")
    print(f"{len(keys)} key(s)")
    return 0
