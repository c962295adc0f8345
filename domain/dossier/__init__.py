"""The promotion dossier's verifiable part: the facts a dossier prints, derived from an
agreement's export alone (`facts`), and the check that a dossier's printed facts, its
embedded facts and its embedded export agree and verify (`check`). Both depend only on
the standard library and `domain.integrity`, so a panel can run them without the
service: `python -m domain.dossier.check FILE.pdf --public-key KEY`."""
