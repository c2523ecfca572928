"""A real OpenLDAP server for the directory login tests: its own slapd in a temporary
folder, on free loopback ports (plain + StartTLS, and ldaps), with a test CA and server
certificate made by openssl, seeded with a town hall's people and nested groups.

Nothing of the machine's own slapd is used: our configuration file, our data folder,
our ports; a system slapd started by the package install (if any) is left alone."""
import base64
import hashlib
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

SUFFIX = "dc=primarie,dc=test"
ADMIN_DN = f"cn=admin,{SUFFIX}"
ADMIN_PASSWORD = "admin-secret"
SERVICE_DN = f"cn=dosar,ou=servicii,{SUFFIX}"
SERVICE_PASSWORD = "serviciu-dosar"
PEOPLE = f"ou=oameni,{SUFFIX}"
GROUPS = f"ou=grupuri,{SUFFIX}"

# uid, full name, e-mail, password
PERSONS = [
    ("ana.popescu", "Ana Popescu", "ana.popescu@primarie.test", "Parola-Ana-1"),
    ("cristina.pop", "Cristina Pop", "cristina.pop@primarie.test", "Parola-Cristina-1"),
    ("victor.ene", "Victor Ene", "victor.ene@primarie.test", "Parola-Victor-1"),
    ("mihai.radu", "Mihai Radu", "mihai.radu@primarie.test", "Parola-Mihai-1"),
    ("dan.fost", "Dan Fost", "dan.fost@primarie.test", "Parola-Dan-1"),
    ("ion.plecat", "Ion Plecat", "ion.plecat@primarie.test", "Parola-Ion-1"),
    ("paul.fara", "Paul Fără-Grup", "paul.fara@primarie.test", "Parola-Paul-1"),
    ("ghita.ghicit", "Ghiță Ghicit", "ghita@primarie.test", "Parola-Ghita-1"),
    ("maria.ghiseu", "Maria Ghișeu", "maria.ghiseu@primarie.test", "Parola-Maria-1"),
]


def person_dn(uid: str) -> str:
    return f"uid={uid},{PEOPLE}"


def group_dn(cn: str) -> str:
    return f"cn={cn},{GROUPS}"


# cn → members (people by uid, groups as "group:<cn>"). "Arhitect Sef" is nested in
# "Sefi Urbanism"; "Sefi Urbanism" and "Toti Sefii" contain each other (a cycle).
GROUP_MEMBERS = {
    "Urbanism": ["ana.popescu", "mihai.radu", "dan.fost", "ion.plecat"],
    "Taxe": ["victor.ene"],
    "Arhitect Sef": ["cristina.pop"],
    "Sefi Urbanism": ["group:Arhitect Sef", "group:Toti Sefii"],
    "Toti Sefii": ["group:Sefi Urbanism"],
    "Registratura": ["maria.ghiseu", "mihai.radu"],
    "Fotbal": ["paul.fara", "ana.popescu"],
    "Evidenta": ["ghita.ghicit"],
}


def _ssha(password: str) -> str:
    salt = os.urandom(8)
    digest = hashlib.sha1(password.encode() + salt).digest()
    return "{SSHA}" + base64.b64encode(digest + salt).decode()


def person_ldif(uid: str) -> str:
    """The entry of one of PERSONS, as an LDIF record to add."""
    name, mail, password = next(p[1:] for p in PERSONS if p[0] == uid)
    given, _, surname = name.partition(" ")
    b64 = lambda text: base64.b64encode(text.encode()).decode()  # noqa: E731 (ș, ț, ă)
    return (f"dn: {person_dn(uid)}\nchangetype: add\nobjectClass: inetOrgPerson\n"
            f"uid: {uid}\ncn:: {b64(name)}\nsn:: {b64(surname)}\ngivenName:: {b64(given)}\n"
            f"mail: {mail}\nuserPassword: {_ssha(password)}\n")


def seed_ldif() -> str:
    blocks = [f"dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\n"
              "o: Primaria de test\ndc: primarie\n"]
    for ou in ("oameni", "grupuri", "servicii"):
        blocks.append(f"dn: ou={ou},{SUFFIX}\nobjectClass: organizationalUnit\nou: {ou}\n")
    blocks.append(f"dn: {SERVICE_DN}\nobjectClass: applicationProcess\n"
                  "objectClass: simpleSecurityObject\ncn: dosar\n"
                  f"userPassword: {_ssha(SERVICE_PASSWORD)}\n")
    blocks.extend(person_ldif(uid) for uid, *_ in PERSONS)
    # Groups are added leaves first so the memberof overlay sees every nesting.
    order = ["Arhitect Sef", "Urbanism", "Taxe", "Registratura", "Fotbal", "Evidenta",
             "Sefi Urbanism", "Toti Sefii"]
    for cn in order:
        members = [group_dn(m[6:]) if m.startswith("group:") else person_dn(m)
                   for m in GROUP_MEMBERS[cn] if cn != "Sefi Urbanism" or m != "group:Toti Sefii"]
        blocks.append(f"dn: {group_dn(cn)}\nobjectClass: groupOfNames\ncn: {cn}\n"
                      + "".join(f"member: {m}\n" for m in members))
    # Close the cycle once both groups exist.
    blocks.append(f"dn: {group_dn('Sefi Urbanism')}\nchangetype: modify\nadd: member\n"
                  f"member: {group_dn('Toti Sefii')}\n-\n")
    return "\n".join(blocks)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def make_certificates(folder: Path) -> None:
    """ca.crt signs server.crt (for 127.0.0.1 and localhost); other-ca.crt signs nothing."""
    for name in ("ca", "other-ca"):
        _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                 "-keyout", f"{name}.key", "-out", f"{name}.crt",
                 "-subj", f"/O=Dosar teste/CN={name}",
                 "-addext", "basicConstraints=critical,CA:TRUE",
                 "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=folder)
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key",
             "-out", "server.csr", "-subj", "/O=Dosar teste/CN=127.0.0.1", cwd=folder)
    (folder / "server.ext").write_text(
        "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n"
        "extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n")
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
             "-CAcreateserial", "-days", "2", "-extfile", "server.ext", "-out", "server.crt",
             cwd=folder)


SLAPD_CONF = """\
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload memberof
moduleload ppolicy
pidfile {folder}/slapd.pid
argsfile {folder}/slapd.args
TLSCACertificateFile {folder}/ca.crt
TLSCertificateFile {folder}/server.crt
TLSCertificateKeyFile {folder}/server.key

database mdb
maxsize 20971520
suffix "{suffix}"
rootdn "{admin_dn}"
rootpw {admin_password}
directory {folder}/data
index objectClass eq
index uid eq
index member eq
overlay memberof
memberof-group-oc groupOfNames
memberof-member-ad member
memberof-memberof-ad memberOf
memberof-refint TRUE
overlay ppolicy
access to attrs=userPassword
    by anonymous auth
    by self write
    by * none
access to *
    by users read
    by * none
"""


@dataclass
class LdapServer:
    folder: Path
    port: int            # ldap:// (StartTLS)
    tls_port: int        # ldaps://
    process: subprocess.Popen

    @property
    def url(self) -> str:
        return f"ldap://127.0.0.1:{self.port}"

    @property
    def ldaps_url(self) -> str:
        return f"ldaps://127.0.0.1:{self.tls_port}"

    @property
    def misnamed_ldaps_url(self) -> str:
        """The ldaps port at an address the server's certificate does not name."""
        return f"ldaps://127.0.0.2:{self.tls_port}"

    @property
    def ca_file(self) -> str:
        return str(self.folder / "ca.crt")

    @property
    def other_ca_file(self) -> str:
        return str(self.folder / "other-ca.crt")

    def ldapmodify(self, ldif: str) -> None:
        """Change the directory as its administrator would (ldap-utils' ldapmodify)."""
        done = subprocess.run(["ldapmodify", "-x", "-H", self.url, "-D", ADMIN_DN,
                               "-w", ADMIN_PASSWORD], input=ldif.encode(),
                              capture_output=True, timeout=30)
        if done.returncode:
            raise RuntimeError(f"ldapmodify failed: {done.stderr.decode(errors='replace')}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _wait_for_port(port: int, process: subprocess.Popen, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"slapd exited: {process.stderr.read().decode(errors='replace')}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("slapd did not start listening in time")


def start(folder: Path) -> LdapServer:
    slapd = shutil.which("slapd") or "/usr/sbin/slapd"
    if not Path(slapd).exists():
        raise RuntimeError("slapd is not installed (apt-get install slapd ldap-utils)")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "data").mkdir()
    make_certificates(folder)
    conf = folder / "slapd.conf"
    conf.write_text(SLAPD_CONF.format(folder=folder, suffix=SUFFIX, admin_dn=ADMIN_DN,
                                      admin_password=ADMIN_PASSWORD))
    port, tls_port = free_port(), free_port()
    # -d 0: stay in the foreground (so we own the process) and log nothing.
    process = subprocess.Popen(
        [slapd, "-d", "0", "-f", str(conf),
         # 127.0.0.2 is a name the certificate does not carry (host name check).
         "-h", f"ldap://127.0.0.1:{port}/ ldaps://127.0.0.1:{tls_port}/ "
               f"ldaps://127.0.0.2:{tls_port}/"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    server = LdapServer(folder, port, tls_port, process)
    try:
        _wait_for_port(port, process)
        _wait_for_port(tls_port, process)
        subprocess.run(["ldapadd", "-x", "-H", server.url, "-D", ADMIN_DN,
                        "-w", ADMIN_PASSWORD], input=seed_ldif().encode(), check=True,
                       capture_output=True, timeout=60)
    except Exception:
        server.stop()
        raise
    return server
