"""Card feedback (CDS Hooks 2.0 §Feedback): validated, then committed to the store before the 200."""
