-- What repo.Install checks on every PHI table: it belongs to the owner role and the application role may read
-- and write it. (The migrating user must be a superuser or a member of auditrepo_owner.)
ALTER TABLE clients OWNER TO auditrepo_owner;
ALTER TABLE pets OWNER TO auditrepo_owner;
ALTER TABLE visits OWNER TO auditrepo_owner;

GRANT USAGE ON SCHEMA public TO auditrepo_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON clients, pets, visits TO auditrepo_app;
