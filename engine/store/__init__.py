"""Where the experiment lives: files on one machine (the default) or PostgreSQL shared by several
gateway replicas (AIOS_STORE_URL). select.py decides per path; postgres.py holds the backends."""
