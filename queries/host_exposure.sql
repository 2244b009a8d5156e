-- name: host_exposure
-- description: One row per banned vendor: how exposed this host is (score 0-100 and level), the evidence counted by kind, the top reasons, the authority that bans the vendor, how long its software has gone without lawful updates, and what to do.
-- platforms: linux, darwin
-- interval: 3600
WITH
host AS (SELECT hostname, os_family, as_of FROM scan_host),
-- Catalog indicators for this host's OS family. k1 is the first character
-- of a pattern that starts with a literal ('' for the others): joining on it
-- lets SQLite's automatic index skip almost every (value, indicator) pair.
ind AS MATERIALIZED (
  SELECT i.vendor_id, i.kind, i.match, i.pattern, i.confidence, i.needle,
         -- The kind of value the indicator is matched against.
         CASE WHEN i.kind = 'package' THEN 'name'
              WHEN i.kind = 'product_name' THEN 'product'
              WHEN i.kind IN ('service', 'driver') THEN 'service'
              ELSE i.kind END AS okind,
         lower(i.pattern) AS lp,
         CASE WHEN i.match IN ('exact', 'prefix')
                OR (i.match = 'glob' AND substr(i.pattern, 1, 1) NOT IN ('*', '?', '['))
              THEN substr(lower(i.pattern), 1, 1) ELSE '' END AS k1
  FROM banned_vendor_indicators AS i
  WHERE i.platform IN ('all', (SELECT os_family FROM host))
),
-- Every value a catalog indicator can be matched against, with what it is
-- evidence of. `observed` is the component's own state.
obs AS (
  SELECT 'software' AS evidence, k.ikind AS ikind, lower(s.name) AS lv,
         s.name AS name, s.version AS version, s.publisher AS detail,
         CASE WHEN s.installed = 1 THEN 'installed'
              WHEN s.status LIKE '%config-files' THEN 'config_only'
              ELSE 'present' END AS observed,
         'installed_software' AS source_table, s.path AS path
  -- Each name is a package name and, except for deb, rpm and apk packages, whose
  -- names are never display names, a product name: a product called `Lark`
  -- is not the Debian package `lark`.
  FROM installed_software AS s
  JOIN (SELECT 'name' AS ikind UNION ALL SELECT 'product') AS k
    ON k.ikind = 'name' OR s.source NOT IN ('deb', 'rpm', 'apk')
  UNION ALL
  -- Publishers repeat: each distinct one is matched once, and joined back
  -- to its packages in `evidence` below. A Maintainer's e-mail address is
  -- not part of the name.
  SELECT 'software', 'publisher', p.lv, NULL, NULL, NULL, NULL, 'installed_software', NULL
  FROM (SELECT DISTINCT lower(trim(CASE WHEN instr(publisher, '<') > 1 THEN substr(publisher, 1, instr(publisher, '<') - 1) ELSE publisher END)) AS lv FROM installed_software
        WHERE publisher IS NOT NULL AND EXISTS (SELECT 1 FROM ind WHERE kind = 'publisher')) AS p
  UNION ALL
  SELECT 'software', 'bundle_id', lower(s.identifier), s.name, s.version, s.publisher,
         CASE WHEN s.installed = 1 THEN 'installed' ELSE 'present' END,
         'installed_software', s.path
  FROM installed_software AS s
  WHERE s.identifier IS NOT NULL AND EXISTS (SELECT 1 FROM ind WHERE kind = 'bundle_id')
  UNION ALL
  -- Kernel and system extensions are macOS's drivers.
  SELECT CASE WHEN v.kind IN ('windows_driver', 'macos_kext', 'macos_system_extension') THEN 'driver' ELSE 'service' END,
         v.ikind, lower(v.unit), v.name, NULL, v.start_type,
         CASE WHEN v.state = 'running' THEN 'running'
              WHEN v.start_type IN ('disabled', 'masked', 'masked-runtime', 'indirect', 'bad') THEN 'disabled'
              -- sysextd's state: only activated_enabled runs (the others wait
              -- for approval, are disabled or are being uninstalled).
              WHEN v.kind = 'macos_system_extension' AND v.start_type IS NOT 'activated_enabled' THEN 'disabled'
              ELSE 'enabled' END,
         'installed_services', v.path
  FROM (SELECT *, name AS unit, 'service' AS ikind FROM installed_services
        UNION ALL
        -- systemd units also match by their name without the suffix.
        SELECT *, substr(name, 1, length(name) - 8), 'service' FROM installed_services
        WHERE kind = 'systemd' AND name LIKE '%.service'
        UNION ALL
        -- launchd labels and kext and system extension identifiers are
        -- bundle identifiers (com.kaspersky.kav_agent, com.kaspersky.kav.sysext).
        SELECT *, name, 'bundle_id' FROM installed_services
        WHERE kind IN ('launchd', 'macos_kext', 'macos_system_extension')
          AND EXISTS (SELECT 1 FROM ind WHERE kind = 'bundle_id')) AS v
  UNION ALL
  SELECT 'certificate', c.ikind, lower(c.value), c.sha1, NULL, c.common_name,
         CASE WHEN c.trust = 'distrusted' THEN 'distrusted'
              WHEN c.trust = 'trusted' THEN 'trusted' ELSE 'present' END,
         'installed_certificates', c.path
  -- The catalog's certificate patterns name a whole CN= or O= attribute
  -- inside the one-line subject and issuer, whose values hold no separator
  -- (installed_certificates writes one inside a value as a hex pair, \2F).
  FROM (SELECT 'cert_subject' AS ikind, subject AS value, * FROM installed_certificates
        WHERE EXISTS (SELECT 1 FROM ind WHERE kind = 'cert_subject')
        UNION ALL
        SELECT 'cert_issuer', issuer, * FROM installed_certificates
        WHERE EXISTS (SELECT 1 FROM ind WHERE kind = 'cert_issuer')) AS c
  WHERE c.value IS NOT NULL
  UNION ALL
  SELECT 'process', 'process', lower(p.value), p.name, NULL, p.cmdline, 'running',
         'running_processes', p.path
  FROM (SELECT name AS value, * FROM running_processes
        WHERE EXISTS (SELECT 1 FROM ind WHERE kind = 'process')
        UNION ALL
        -- The executable's file name (what follows the last / or \) when it
        -- differs from the process name. rtrim() strips every character but
        -- the separators from the right: what is left is the directory.
        SELECT b.* FROM (
          SELECT substr(path, length(rtrim(path, replace(replace(path, '/', ''), '\', ''))) + 1) AS value, *
          FROM running_processes
          WHERE EXISTS (SELECT 1 FROM ind WHERE kind = 'process') AND path IS NOT NULL) AS b
        WHERE b.value <> '' AND b.value <> b.name) AS p
  UNION ALL
  SELECT 'browser_extension', 'browser_extension', lower(b.id), b.id, b.version,
         b.browser || ': ' || coalesce(b.name, ''),
         CASE WHEN b.enabled = 0 THEN 'disabled' ELSE 'enabled' END,
         'browser_extensions', b.path
  FROM browser_extensions AS b
  WHERE EXISTS (SELECT 1 FROM ind WHERE kind = 'browser_extension')
),
-- CROSS JOIN: obs is the outer loop, each value probing the index on ind.
hits AS (
  SELECT o.*, i.vendor_id, i.confidence, i.kind || ' ' || i.match || ' ' || i.pattern AS indicator
  FROM obs AS o CROSS JOIN ind AS i ON i.okind = o.ikind AND i.k1 = substr(o.lv, 1, 1)
  WHERE CASE i.match
          WHEN 'exact' THEN o.lv = i.lp
          WHEN 'prefix' THEN substr(o.lv, 1, length(i.lp)) = i.lp
          WHEN 'glob' THEN o.lv GLOB i.lp
        END
  UNION ALL
  SELECT o.*, i.vendor_id, i.confidence, i.kind || ' ' || i.match || ' ' || i.pattern
  FROM obs AS o CROSS JOIN ind AS i ON i.okind = o.ikind AND i.k1 = ''
  WHERE CASE i.match
          WHEN 'glob' THEN o.lv GLOB i.lp
          -- instr first: a literal every match contains is far cheaper to
          -- look for than to run the regex. A nested CASE, because SQLite
          -- evaluates both sides of an AND that is a value, not a condition.
          WHEN 'regex' THEN CASE WHEN i.needle IS NULL OR instr(o.lv, i.needle) > 0
                                 THEN regex_match(o.lv, i.pattern, 0) IS NOT NULL END
        END
  UNION ALL
  -- Paths are asked for, never listed: file_presence gets each pattern pushed down.
  SELECT 'path', 'path', lower(f.path), f.path, NULL, f.type, 'present',
         'file_presence', f.path, i.vendor_id, i.confidence, i.kind || ' ' || i.match || ' ' || i.pattern
  FROM ind AS i JOIN file_presence AS f ON f.path = i.pattern
  WHERE i.kind = 'path' AND f."exists" = 1
),
evidence AS (
  SELECT * FROM hits WHERE ikind <> 'publisher'
  UNION ALL
  SELECT h.evidence, h.ikind, h.lv, s.name, s.version, s.publisher,
         CASE WHEN s.installed = 1 THEN 'installed'
              WHEN s.status LIKE '%config-files' THEN 'config_only'
              ELSE 'present' END,
         'installed_software', s.path, h.vendor_id, h.confidence, h.indicator
  FROM hits AS h JOIN installed_software AS s
    ON lower(trim(CASE WHEN instr(s.publisher, '<') > 1 THEN substr(s.publisher, 1, instr(s.publisher, '<') - 1)
                       ELSE s.publisher END)) = h.lv
  WHERE h.ikind = 'publisher'
),
-- One row per piece of evidence: the strongest indicator wins.
best AS (
  SELECT *, row_number() OVER (
           PARTITION BY vendor_id, evidence, name, path
           ORDER BY CASE confidence WHEN 'high' THEN 0 WHEN 'medium' THEN 1 ELSE 2 END, indicator) AS rank
  FROM evidence
),
vendors AS (SELECT DISTINCT vendor_id, vendor, banned FROM banned_vendors),
installed_vendors AS (
  SELECT DISTINCT vendor_id FROM best WHERE rank = 1 AND evidence = 'software' AND observed = 'installed'
),
findings AS (
  SELECT b.vendor_id, v.vendor, b.evidence, b.name, b.version, b.detail,
         CASE WHEN b.evidence <> 'software'
                   AND b.vendor_id NOT IN (SELECT vendor_id FROM installed_vendors)
              THEN 'leftover' ELSE b.observed END AS state,
         b.confidence, b.indicator, b.source_table, b.path, b.observed
  FROM best AS b JOIN vendors AS v USING (vendor_id)
  WHERE b.rank = 1 AND v.banned = 1
)
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
