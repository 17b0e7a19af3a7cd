"""Applications of the localized neurons: cross-lingual knowledge editing (`edit`), knowledge enhancement
(`enhance`) and new knowledge injection (`inject`), each a study with the evaluation's run store and report.
See docs/applications.md."""
