"""What the tests share and are not tests themselves: real servers (SMTP, `newsletter serve`, a
prefix proxy), drivers of real readers and clients, and the tagger's table of cases."""
