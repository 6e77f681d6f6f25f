-- Run once when a PostgreSQL database is created (docker-compose mounts this into
-- /docker-entrypoint-initdb.d). Everything else comes from the Alembic migrations, which
-- `agente-films serve` (or `agente-films migrate`) applies at start-up.

-- Trigram search on film project titles (idx_projects_title_trgm).
CREATE EXTENSION IF NOT EXISTS pg_trgm;
