#!/bin/sh
# Runs once, when the PostgreSQL data directory is first created (docker-entrypoint-initdb.d).
#
# Two roles: POSTGRES_USER owns the database and every table (migrations run as it), and
# mgm_app is what web, worker and beat connect as. mgm_app may read and write rows but owns
# nothing, so it cannot ALTER, DROP or TRUNCATE a table: the audit log's trigger refuses
# UPDATE and DELETE, and without ownership nothing the application does can empty the table.
set -eu

psql -v ON_ERROR_STOP=1 \
    --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    -v app_password="$POSTGRES_APP_PASSWORD" \
    -v owner="$POSTGRES_USER" \
    -v db="$POSTGRES_DB" <<'SQL'
CREATE ROLE mgm_app LOGIN PASSWORD :'app_password';
GRANT CONNECT ON DATABASE :"db" TO mgm_app;
GRANT USAGE ON SCHEMA public TO mgm_app;
-- Tables and sequences the owner creates later (migrations) get DML rights for mgm_app.
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO mgm_app;
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" IN SCHEMA public
    GRANT USAGE, SELECT ON SEQUENCES TO mgm_app;
SQL
