-- name: banned_vendor_leftovers
-- description: Components of a banned vendor's software that remain when none of its software is installed any more (drivers, services, a trusted root certificate, program-data folders), for instance after Kaspersky's September 2024 swap of US installs to UltraAV.
-- platforms: linux, darwin
-- interval: 86400
SELECT vendor_id, vendor, evidence, name, version, detail, state, confidence, indicator,
       source_table, path, observed
FROM findings
WHERE state = 'leftover'
ORDER BY vendor_id, evidence, name
