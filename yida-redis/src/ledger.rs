//! The call ledger shared by replicas: one Redis hash per organisation and month.

use crate::Redis;
use redis::Script;
use std::collections::HashMap;
use std::fmt;
use std::sync::LazyLock;
use yida_api::ledger::{
    Admission, Delta, Entry, LedgerError, LedgerFuture, LedgerStore, Month, MonthUsage, OrgUsage,
};

/// Adds a delta to KEYS[1] (the organisation's hash for the month) unless it passes the limit;
/// KEYS[2] is the set of the month's organisations. ARGV: org, calls, token fetches, quota
/// refusals, limit (−1: none), the operation's field, time to live (s). Returns
/// `{counted (0/1), calls}`: the check and the add are one step for every replica.
static ADD: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"local calls = tonumber(redis.call('HGET', KEYS[1], 'calls') or '0') or 0
          local d = tonumber(ARGV[2])
          local limit = tonumber(ARGV[5])
          if d > 0 and limit >= 0 and calls + d > limit then
            return {0, calls}
          end
          if d ~= 0 then
            calls = redis.call('HINCRBY', KEYS[1], 'calls', d)
            redis.call('HINCRBY', KEYS[1], ARGV[6], d)
          end
          if tonumber(ARGV[3]) > 0 then redis.call('HINCRBY', KEYS[1], 'tokens', ARGV[3]) end
          if tonumber(ARGV[4]) > 0 then redis.call('HINCRBY', KEYS[1], 'limit', ARGV[4]) end
          redis.call('SADD', KEYS[2], ARGV[1])
          redis.call('EXPIRE', KEYS[1], ARGV[7])
          redis.call('EXPIRE', KEYS[2], ARGV[7])
          return {1, calls}",
    )
});

/// Counts kept past their month: about 13 months.
const TTL_SECS: u64 = 400 * 86_400;

/// Separates the app from the operation in a hash field (`op:<app>\x1f<Action@version>`).
const SEP: char = '\u{1f}';

/// A [`LedgerStore`] in Redis, shared by every replica using the same Redis and prefix: the
/// counts of the month, and a budget's check-and-count as one Lua script, so the replicas
/// together never pass a limit.
///
/// Keys: `<prefix>ledger:<YYYY-MM>:<org>` (a hash: `calls`, `tokens`, `limit`, and
/// `op:<app>\x1f<Action@version>` per operation) and `<prefix>ledger:<YYYY-MM>:orgs`, kept
/// about 13 months.
///
/// When Redis cannot be reached, the store answers with a [`LedgerError`]: a client without a
/// refusing budget logs it and sends its call (uncounted); under a refusing budget the call is
/// not sent ([`yida_api::Error::Ledger`]), since the budget cannot be checked.
///
/// ```no_run
/// use yida_api::ledger::{CallBudget, Ledger};
/// use yida_redis::{Redis, RedisLedger};
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let redis = Redis::builder("redis://127.0.0.1/").build()?;
/// let ledger = Ledger::new(RedisLedger::new(&redis))
///     .budget("dingcorp", CallBudget::monthly(10_000));
/// # let _ = ledger; Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisLedger {
    redis: Redis,
}

impl fmt::Debug for RedisLedger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisLedger")
            .field("redis", &self.redis)
            .finish()
    }
}

impl RedisLedger {
    /// A ledger in `redis`, under its key prefix.
    pub fn new(redis: &Redis) -> Self {
        RedisLedger {
            redis: redis.clone(),
        }
    }

    fn org_key(&self, month: Month, org: &str) -> String {
        self.redis.key("ledger", &format!("{month}:{org}"))
    }

    fn orgs_key(&self, month: Month) -> String {
        self.redis.key("ledger", &format!("{month}:orgs"))
    }

    fn unavailable() -> LedgerError {
        LedgerError("Redis is unavailable; the call could not be counted".into())
    }
}

impl LedgerStore for RedisLedger {
    fn add<'a>(
        &'a self,
        month: Month,
        entry: &'a Entry,
        delta: Delta,
        limit: Option<u64>,
    ) -> LedgerFuture<'a, Admission> {
        Box::pin(async move {
            let key = self.org_key(month, &entry.org);
            let orgs = self.orgs_key(month);
            let field = format!("op:{}{SEP}{}", entry.app, entry.operation);
            let limit = limit.map(|l| l as i64).unwrap_or(-1);
            let (counted, calls): (i64, i64) = self
                .redis
                .run("ledger add", |mut conn| async move {
                    ADD.key(key)
                        .key(orgs)
                        .arg(&entry.org)
                        .arg(delta.calls)
                        .arg(delta.token_fetches)
                        .arg(delta.limit_replies)
                        .arg(limit)
                        .arg(field)
                        .arg(TTL_SECS)
                        .invoke_async(&mut conn)
                        .await
                })
                .await
                .ok_or_else(Self::unavailable)?;
            let calls = calls.max(0) as u64;
            Ok(if counted == 1 {
                Admission::Counted(calls)
            } else {
                Admission::Refused(calls)
            })
        })
    }

    fn usage(&self, month: Month) -> LedgerFuture<'_, MonthUsage> {
        Box::pin(async move {
            let orgs_key = self.orgs_key(month);
            let orgs: Vec<String> = self
                .redis
                .run("ledger orgs", |mut conn| async move {
                    redis::cmd("SMEMBERS")
                        .arg(orgs_key)
                        .query_async(&mut conn)
                        .await
                })
                .await
                .ok_or_else(Self::unavailable)?;
            let mut usage = MonthUsage::default();
            for org in orgs {
                let key = self.org_key(month, &org);
                let fields: HashMap<String, i64> = self
                    .redis
                    .run("ledger usage", |mut conn| async move {
                        redis::cmd("HGETALL").arg(key).query_async(&mut conn).await
                    })
                    .await
                    .ok_or_else(Self::unavailable)?;
                let mut u = OrgUsage::default();
                for (field, n) in fields {
                    let n = n.max(0) as u64;
                    match field.as_str() {
                        "calls" => u.calls = n,
                        "tokens" => u.token_fetches = n,
                        "limit" => u.limit_replies = n,
                        f => {
                            if let Some((app, op)) =
                                f.strip_prefix("op:").and_then(|f| f.split_once(SEP))
                            {
                                u.by_app
                                    .entry(app.to_string())
                                    .or_default()
                                    .insert(op.to_string(), n);
                            }
                        }
                    }
                }
                usage.orgs.insert(org, u);
            }
            Ok(usage)
        })
    }
}
