-- Plain SQL, no Jinja: `gtm metrics` builds this same query in memory beside the
-- read-only published file (the spine is not published), reading it from the manifest.
select cast(range as date) as date_day
from range(date '2000-01-01', date '2051-01-01', interval 1 day)
