"""Piccolo's configuration: one PostgreSQL engine, one app holding every domain's tables."""

from piccolo.conf.apps import AppRegistry

from contest.db import make_engine

DB = make_engine()

APP_REGISTRY = AppRegistry(apps=["contest.piccolo_app"])
