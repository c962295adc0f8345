"""The promotion dossier: issued from the export, rendered as HTML and PDF."""
