"""Exit 0 when the PostgreSQL and Redis URLs given as arguments both answer."""

import asyncio
import sys

import asyncpg
import redis.asyncio as redis


async def main(pg_url: str, redis_url: str) -> int:
    ok = True
    try:
        conn = await asyncpg.connect(pg_url.replace("postgres://", "postgresql://", 1), timeout=3)
        await conn.close()
    except Exception as exc:
        print(f"PostgreSQL at {pg_url}: {type(exc).__name__}: {exc}", file=sys.stderr)
        ok = False
    client = redis.Redis.from_url(redis_url, socket_connect_timeout=3)
    try:
        await client.ping()
    except Exception as exc:
        print(f"Redis at {redis_url}: {type(exc).__name__}: {exc}", file=sys.stderr)
        ok = False
    finally:
        await client.aclose()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1], sys.argv[2])))
