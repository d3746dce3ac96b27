"""Development tool: rebuild the initial migration from the models.

Until the first release the schema lives in one migration, regenerated here
whenever a model changes. After a release, add new revisions instead
(`alembic revision --autogenerate` against a database at head).
"""

import tempfile
from pathlib import Path

from alembic import command

from servicepulse.db.engine import make_engine
from servicepulse.db.migrate import MIGRATIONS_DIR, alembic_config

for old in (MIGRATIONS_DIR / "versions").glob("0001_*.py"):
    old.unlink()
with tempfile.TemporaryDirectory() as tmp:
    engine = make_engine(f"sqlite:///{Path(tmp) / 'gen.db'}")
    cfg = alembic_config(engine)
    with engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.revision(cfg, message="initial schema", autogenerate=True, rev_id="0001")
        conn.commit()
