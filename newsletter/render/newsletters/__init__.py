"""Newsletter issues: periods, CSS inlining, rendering and MIME messages."""
