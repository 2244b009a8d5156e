-- name: banned_vendor_findings
-- description: Every piece of evidence that software from a banned vendor is, or was, on this host: packages, services, drivers, trusted certificates, processes, browser extensions and paths, each with the catalog indicator it matched.
-- platforms: linux, darwin
-- interval: 3600
SELECT vendor_id, vendor, evidence, name, version, detail, state, confidence, indicator,
       source_table, path
FROM findings
ORDER BY vendor_id, evidence, name
