//! The closed vocabularies of the catalog. The words are part of the
//! interface contract (they appear as column values), so each enum spells
//! them once and every surface reads them from here.

macro_rules! vocabulary {
    ($(#[$meta:meta])* $name:ident { $($(#[doc = $doc:literal])* $variant:ident = $word:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $($(#[doc = $doc])* $variant),+
        }

        impl $name {
            /// Every word, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $word),+
                }
            }

            /// The variant spelled exactly `word` (the vocabulary is lowercase).
            pub fn parse(word: &str) -> Option<Self> {
                match word {
                    $($word => Some($name::$variant),)+
                    _ => None,
                }
            }

            /// The allowed words, for error messages.
            pub fn expected() -> String {
                [$($word),+].join(", ")
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

vocabulary! {
    /// What an indicator's pattern is compared with.
    Kind {
        /// A publisher, vendor or maintainer string, or a code-signing identity (Apple Team ID).
        Publisher = "publisher",
        /// A product's display name (Windows Uninstall DisplayName, app name).
        ProductName = "product_name",
        /// A package name or id (deb, rpm, macOS receipt, AppX family, winget id).
        Package = "package",
        /// A service name or display name (Windows service key, systemd unit, SysV script, launchd label).
        Service = "service",
        /// A driver's image file name (`klif.sys`).
        Driver = "driver",
        /// A process's executable file name.
        Process = "process",
        /// A macOS bundle identifier.
        BundleId = "bundle_id",
        /// A certificate's subject distinguished name.
        CertSubject = "cert_subject",
        /// A certificate's issuer distinguished name.
        CertIssuer = "cert_issuer",
        /// A browser extension id.
        BrowserExtension = "browser_extension",
        /// A file or directory, root-relative POSIX form (`/ProgramData/Kaspersky Lab`).
        Path = "path",
    }
}

vocabulary! {
    /// How a pattern is compared. Always case-insensitive (ASCII folding, as
    /// SQLite's `lower()`); there is no substring match.
    MatchKind {
        /// The whole value equals the pattern.
        Exact = "exact",
        /// The value starts with the pattern.
        Prefix = "prefix",
        /// The whole value matches a glob: `*` any run, `?` one character.
        Glob = "glob",
        /// The lowercased value matches a regex of the dialect both Rust and ECMAScript share.
        Regex = "regex",
    }
}

vocabulary! {
    /// The OS family a value is found on.
    Platform {
        Linux = "linux",
        Windows = "windows",
        Macos = "macos",
        All = "all",
    }
}

vocabulary! {
    /// How sure a match makes us that the vendor's software is (or was) there.
    Confidence {
        /// Named in a maintained detection rule, vendor or Microsoft documentation, a package manifest or a host artefact dump, and specific to the vendor.
        High = "high",
        /// One secondary source, a reconstructed value, or a name that needs a second signal.
        Medium = "medium",
        /// An unattributed source, a legacy name, or a legal name not yet observed on a host.
        Low = "low",
    }
}

vocabulary! {
    /// Whom an authority binds. A small set on purpose: it says how a finding
    /// is to be read, not the law's full text (that is `citation`).
    Scope {
        /// Every US person: transactions (sale, updates, resale, integration) are prohibited.
        AllUsPersons = "all_us_persons",
        /// Federal executive-branch information systems and government devices.
        FederalSystems = "federal_systems",
        /// Federal agencies and their contractors may not buy, provide or use it.
        FederalProcurement = "federal_procurement",
        /// Export licensing for items sent to the entity; using its software is not barred.
        ExportControls = "export_controls",
        /// Blocking sanctions on named people or firms.
        Sanctions = "sanctions",
        /// Telecom and video-surveillance equipment and services; client software on a PC is evidence of covered equipment, not itself covered.
        EquipmentOnly = "equipment_only",
        /// FCC-administered subsidies (Universal Service Fund) may not pay for it; use is not barred.
        TelecomSubsidy = "telecom_subsidy",
        /// A US state's devices and networks.
        StateAgency = "state_agency",
        /// One federal body's own devices and networks, by directive or memo (House, NASA, Navy).
        AgencyDirective = "agency_directive",
    }
}
