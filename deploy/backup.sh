#!/usr/bin/env bash
# Back up the Pulang Juragan database while the bot runs; nothing needs to stop.
#
#   deploy/backup.sh [DIR]        (DIR defaults to /var/backups/juragan)
#
# DATABASE_URL comes from the environment, else from /etc/juragan/juragan.env (JURAGAN_ENV names
# another file). PostgreSQL: pg_dump's custom format, one consistent snapshot. SQLite: the
# sqlite3 online backup, checked with PRAGMA integrity_check.
# Backups hold personal data. With BACKUP_AGE_RECIPIENT set (an age public key, age1...), the
# file is encrypted before it is kept; the private key belongs somewhere else. Backups older
# than BACKUP_KEEP_DAYS (default 30) are deleted. Prints the path of the new backup.
set -euo pipefail
umask 077

dir=${1:-/var/backups/juragan}
env_file=${JURAGAN_ENV:-/etc/juragan/juragan.env}
if [[ -z ${DATABASE_URL:-} && -r $env_file ]]; then
    DATABASE_URL=$(sed -n 's/^DATABASE_URL=//p' "$env_file" | tail -n 1)
fi
if [[ -z ${DATABASE_URL:-} ]]; then
    echo "backup.sh: DATABASE_URL is not set, nor in $env_file" >&2
    exit 2
fi
keep=${BACKUP_KEEP_DAYS:-30}
stamp=$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$dir"

case $DATABASE_URL in
    postgresql+asyncpg://*)
        # libpq's URL: the same without "+asyncpg" (asyncpg's ?ssl=... is libpq's ?sslmode=...).
        url="postgresql://${DATABASE_URL#postgresql+asyncpg://}"
        out="$dir/juragan-$stamp.dump"
        pg_dump --format=custom --file="$out.part" "$url"
        ;;
    sqlite+aiosqlite:///*)
        path=${DATABASE_URL#sqlite+aiosqlite:///}
        out="$dir/juragan-$stamp.db"
        sqlite3 "$path" ".backup '$out.part'"
        check=$(sqlite3 "$out.part" "PRAGMA integrity_check")
        if [[ $check != ok ]]; then
            echo "backup.sh: the copy of $path fails its integrity check: $check" >&2
            exit 1
        fi
        ;;
    *)
        echo "backup.sh: DATABASE_URL is neither postgresql+asyncpg:// nor sqlite+aiosqlite:///" >&2
        exit 2
        ;;
esac

if [[ -n ${BACKUP_AGE_RECIPIENT:-} ]]; then
    age --encrypt --recipient "$BACKUP_AGE_RECIPIENT" --output "$out.age" "$out.part"
    rm -f "$out.part"
    out="$out.age"
else
    mv "$out.part" "$out"
fi
find "$dir" -maxdepth 1 -type f -name 'juragan-*' -mtime +"$keep" -delete
echo "$out"
