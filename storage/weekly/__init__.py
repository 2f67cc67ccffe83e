"""Weekly releases and four-grid reports (`releases`), ballots and picks (`ballots`)."""
