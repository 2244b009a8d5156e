-- name: host_exposure
-- description: One row per banned vendor: how exposed this host is (score 0-100 and level), the evidence counted by kind, the top reasons, the authority that bans the vendor, how long its software has gone without lawful updates, and what to do.
-- platforms: linux, darwin
-- interval: 3600
, weighed AS (
  -- The scoring model (README, "Exposure score"): what the component can do
  -- now, scaled by how sure the indicator is.
  SELECT f.*,
         (CASE f.evidence
            WHEN 'certificate' THEN CASE f.observed WHEN 'trusted' THEN 45 WHEN 'distrusted' THEN 2 ELSE 15 END
            WHEN 'driver' THEN CASE f.observed WHEN 'running' THEN 40 WHEN 'enabled' THEN 35 ELSE 10 END
            WHEN 'service' THEN CASE f.observed WHEN 'running' THEN 30 WHEN 'enabled' THEN 25 ELSE 8 END
            WHEN 'process' THEN 30
            WHEN 'software' THEN CASE f.observed WHEN 'installed' THEN 30 WHEN 'config_only' THEN 3 ELSE 10 END
            WHEN 'browser_extension' THEN CASE f.observed WHEN 'enabled' THEN 15 ELSE 4 END
            ELSE 4 END)
         * (CASE f.confidence WHEN 'high' THEN 100 WHEN 'medium' THEN 60 ELSE 30 END) / 100 AS weight,
         CASE f.evidence
           WHEN 'certificate' THEN f.observed || ' certificate "' || coalesce(f.detail, f.name) || '"'
           WHEN 'software' THEN 'package ' || f.name || coalesce(' ' || f.version, '') || ' ' || replace(f.observed, '_', '-')
           WHEN 'path' THEN 'path ' || f.name || ' present'
           ELSE replace(f.evidence, '_', ' ') || ' ' || f.name || ' ' || f.observed
         END || CASE WHEN f.state = 'leftover' THEN ' (leftover)' ELSE '' END AS reason
  FROM findings AS f
),
-- Every per-vendor figure comes from one chain over `weighed`: a query that
-- referred to the findings several times would make SQLite expand the whole
-- evidence model once per reference (SQLite 3.54 refuses that as "nested too
-- deep").
ranked AS (
  SELECT *,
         max(weight) OVER (PARTITION BY vendor_id, evidence) AS kind_weight,
         row_number() OVER (PARTITION BY vendor_id, evidence ORDER BY weight DESC) AS kind_n,
         -- One certificate in several stores is one reason.
         row_number() OVER (PARTITION BY vendor_id, reason ORDER BY weight DESC) AS reason_n
  FROM weighed
),
ordered AS (
  SELECT *, row_number() OVER (PARTITION BY vendor_id, reason_n = 1 ORDER BY weight DESC, reason) AS reason_pos
  FROM ranked
),
per_vendor AS (
  SELECT vendor_id,
         sum(CASE WHEN kind_n = 1 THEN kind_weight ELSE 0 END) AS base,
         sum(kind_n = 1) AS kinds,
         sum(kind_n = 1 AND evidence <> 'path') AS solid_kinds,
         sum(evidence = 'software') AS software, sum(evidence = 'service') AS services,
         sum(evidence = 'driver') AS drivers,
         count(DISTINCT CASE WHEN evidence = 'certificate' THEN name END) AS certificates,
         sum(evidence = 'process') AS processes, sum(evidence = 'browser_extension') AS extensions,
         sum(evidence = 'path') AS paths,
         group_concat(CASE WHEN reason_n = 1 AND reason_pos <= 3 THEN reason END, '; ') AS reasons
  FROM (SELECT * FROM ordered ORDER BY vendor_id, reason_n <> 1, reason_pos)
  GROUP BY vendor_id
),
authority AS (
  SELECT vendor_id, authority, citation, updates_end_date
  FROM (SELECT b.*, row_number() OVER (
                 PARTITION BY b.vendor_id
                 ORDER BY b.updates_end_date IS NULL, b.effective_date DESC) AS n
        FROM banned_vendors AS b WHERE b.banned = 1)
  WHERE n = 1
),
scored AS (
  SELECT v.vendor_id, v.vendor, p.software, p.services, p.drivers, p.certificates, p.processes,
         p.extensions, p.paths, p.reasons,
         CASE
           WHEN p.vendor_id IS NULL THEN 0
           -- Several independent kinds of evidence raise confidence; paths
           -- alone never lift a host above low.
           WHEN p.solid_kinds = 0 THEN max(1, min(19, p.base))
           ELSE max(1, min(100, p.base + 5 * (p.kinds - 1)))
         END AS score
  FROM vendors AS v LEFT JOIN per_vendor AS p USING (vendor_id)
  WHERE v.banned = 1
)
SELECT h.hostname, s.vendor_id, s.vendor, s.score,
       CASE WHEN s.score = 0 THEN 'none' WHEN s.score < 20 THEN 'low' WHEN s.score < 45 THEN 'medium'
            WHEN s.score < 70 THEN 'high' ELSE 'critical' END AS level,
       coalesce(s.software, 0) AS software, coalesce(s.services, 0) AS services,
       coalesce(s.drivers, 0) AS drivers, coalesce(s.certificates, 0) AS certificates,
       coalesce(s.processes, 0) AS processes, coalesce(s.extensions, 0) AS extensions,
       coalesce(s.paths, 0) AS paths,
       s.reasons,
       a.authority || coalesce(' (' || a.citation || ')', '') AS authority,
       CASE WHEN a.updates_end_date IS NULL THEN NULL
            ELSE (h.as_of - CAST(strftime('%s', a.updates_end_date) AS INTEGER)) / 86400 END AS days_without_updates,
       CASE
         WHEN s.score >= 45 THEN 'Remove ' || s.vendor || ' software now: uninstall its packages, delete its services and drivers, and take its root certificates out of every trust store; re-image the host if removal fails.'
         WHEN s.score >= 20 THEN 'Remove the ' || s.vendor || ' components listed in the findings and confirm with a new scan.'
         WHEN s.score > 0 THEN 'Clean up the ' || s.vendor || ' traces listed in the findings (leftover configuration, folders or disabled components).'
         ELSE 'No action: no evidence of ' || s.vendor || ' software.'
       END AS action
FROM scored AS s
CROSS JOIN host AS h
LEFT JOIN authority AS a USING (vendor_id)
ORDER BY s.score DESC, s.vendor_id
