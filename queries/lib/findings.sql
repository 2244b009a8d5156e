-- The evidence model shared by every canned query: queries/src/canned.rs
-- prepends it to each body in queries/canned/, and the runnable files in
-- queries/ are that text; after an edit, regenerate them with
-- `EMBARGO_BLESS=1 cargo test -p embargo-catalog canned`.
-- Only core SQLite (3.40) and osquery's regex_match are used, so the result
-- runs unchanged in embargo, in sqlite3 with libembargo, and in osqueryd.
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
