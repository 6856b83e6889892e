// The KDC of one job's Kerberos realm (--hdfs-auth kerberos), run on the leader as a supervised
// daemon. Apache Kerby's SimpleKdcServer with an in-memory store. The principals' random keys,
// krbtgt's included, are saved once in $SPARK_SLURM_KDC_SAVED_KEYS (0600, in the credentials
// directory the launcher removes with the job), so that a KDC the launcher restarts serves the
// same realm: the daemons' keytabs and the tickets already issued stay valid.
//
//   SPARK_SLURM_KDC_SAVED_KEYS=FILE \
//   java -cp HADOOP_CLASSPATH SparkSlurmKdc.java REALM HOST PORT DIR PRINCIPAL=KEYTAB...
//
// Creates each principal and exports its keys into DIR/KEYTAB (0600; DIR is the launcher's 0700
// credentials directory, where the launcher has written krb5.conf). Meanwhile keytool makes the
// TLS key of the job's HTTPS endpoints, DIR/keystore.p12, for the names in
// $SPARK_SLURM_KEYSTORE_SAN ("ip:A,dns:H,...") with the password in
// $SPARK_SLURM_KEYSTORE_PASSWORD (never in an argv: /proc is public), and its certificate,
// DIR/ca.pem. Then it writes DIR/kdc-ready and serves on HOST:PORT (TCP only) until SIGTERM.
// Run by spark-slurm (src/launcher/leader.cpp), which waits for kdc-ready.
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.apache.kerby.kerberos.kerb.identity.backend.IdentityBackend;
import org.apache.kerby.kerberos.kerb.keytab.Keytab;
import org.apache.kerby.kerberos.kerb.keytab.KeytabEntry;
import org.apache.kerby.kerberos.kerb.request.KrbIdentity;
import org.apache.kerby.kerberos.kerb.server.KdcConfigKey;
import org.apache.kerby.kerberos.kerb.type.base.PrincipalName;
import org.apache.kerby.kerberos.kerb.server.SimpleKdcServer;

public final class SparkSlurmKdc {
    // JDK 17 refuses Kerby's default des3; these are what the job's krb5.conf allows too.
    private static final String ENCTYPES = "aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96";

    private static void writePrivate(Path path, String text) throws IOException {
        Path temporary = path.resolveSibling(path.getFileName() + ".tmp");
        Files.deleteIfExists(temporary);
        Files.createFile(temporary,
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.write(temporary, text.getBytes(StandardCharsets.UTF_8));
        Files.move(
            temporary, path, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    // keytool -genkeypair, started now and waited for later: it runs while the KDC starts.
    private interface Export {
        void to(File file) throws Exception;
    }

    // A fresh file each time, written by Kerby under the process umask and then made 0600: DIR is
    // 0700, so nobody else can open it meanwhile.
    private static void exportPrivately(Path keytab, Export export) throws Exception {
        Files.deleteIfExists(keytab);
        export.to(keytab.toFile());
        Files.setPosixFilePermissions(keytab, PosixFilePermissions.fromString("rw-------"));
    }

    private static Process startKeytool(Path keystore, String san) throws IOException {
        Files.deleteIfExists(keystore);
        String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
        ProcessBuilder builder = new ProcessBuilder(List.of(keytool, "-J-XX:-UsePerfData",
            "-genkeypair", "-noprompt", "-alias", "spark-slurm", "-keyalg", "EC", "-groupname",
            "secp256r1", "-dname", "CN=spark-slurm job", "-ext", "SAN=" + san, "-validity", "366",
            "-storetype", "PKCS12", "-keystore", keystore.toString(), "-storepass:env",
            "SPARK_SLURM_KEYSTORE_PASSWORD"));
        builder.redirectErrorStream(true);
        builder.redirectOutput(ProcessBuilder.Redirect.INHERIT);
        return builder.start();
    }

    private static void finishKeystore(Process keytool, Path keystore, Path caFile, String password)
        throws Exception {
        if (keytool.waitFor() != 0)
            throw new IOException("keytool failed; see above");
        Files.setPosixFilePermissions(keystore, PosixFilePermissions.fromString("rw-------"));
        KeyStore store = KeyStore.getInstance("PKCS12");
        try (var in = Files.newInputStream(keystore)) {
            store.load(in, password.toCharArray());
        }
        Certificate certificate = store.getCertificate("spark-slurm");
        String pem = "-----BEGIN CERTIFICATE-----\n"
            + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                  .encodeToString(certificate.getEncoded())
            + "\n-----END CERTIFICATE-----\n";
        writePrivate(caFile, pem);
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 5) {
            System.err.println("usage: SparkSlurmKdc REALM HOST PORT DIR PRINCIPAL=KEYTAB...");
            System.exit(2);
        }
        final String realm = args[0];
        final String host = args[1];
        final int port = Integer.parseInt(args[2]);
        final Path dir = Path.of(args[3]);
        Path work = dir.resolve("kdc-work");
        Files.createDirectories(work,
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Files.deleteIfExists(dir.resolve("kdc-ready"));

        final String san = System.getenv("SPARK_SLURM_KEYSTORE_SAN");
        final String password = System.getenv("SPARK_SLURM_KEYSTORE_PASSWORD");
        final Path keystore = dir.resolve("keystore.p12");
        // A restart (the launcher restarts a KDC that exits) serves the keys saved at the first
        // start, krbtgt's and every principal's, and keeps the HTTPS keystore: the daemons'
        // keytabs, keystores and the tickets already issued stay valid.
        final String savedKeysName = System.getenv("SPARK_SLURM_KDC_SAVED_KEYS");
        if (savedKeysName == null || savedKeysName.isEmpty()) {
            System.err.println(
                "spark-slurm kdc: SPARK_SLURM_KDC_SAVED_KEYS is not set (spark-slurm sets it)");
            System.exit(2);
        }
        final Path savedKeys = Path.of(savedKeysName);
        final boolean restart = Files.exists(savedKeys);
        final Process keytool =
            restart || san == null || password == null ? null : startKeytool(keystore, san);

        final SimpleKdcServer kdc = new SimpleKdcServer();
        kdc.setWorkDir(work.toFile());
        kdc.setKdcRealm(realm);
        kdc.setKdcHost(host);
        kdc.setKdcTcpPort(port);
        kdc.setAllowUdp(false);
        kdc.getKdcConfig().setString(KdcConfigKey.ENCRYPTION_TYPES, ENCTYPES);
        kdc.init();
        // Kerby's own krb5.conf (unused: the launcher wrote the job's) is made 0644.
        try (var files = Files.list(work)) {
            for (Path file : (Iterable<Path>) files::iterator)
                Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        }
        if (restart)
            restoreKeys(kdc, savedKeys.toFile());
        kdc.start();

        if (restart) {
            writePrivate(dir.resolve("kdc-ready"), "realm " + realm + "\n");
            System.err.println("spark-slurm kdc: realm " + realm + " serving again on " + host
                + ":" + port + " (TCP), with the keys of " + savedKeys);
            serveUntilStopped(kdc);
            return;
        }
        for (int i = 4; i < args.length; ++i) {
            int equals = args[i].indexOf('=');
            String principal = args[i].substring(0, equals);
            Path keytab = dir.resolve(args[i].substring(equals + 1));
            kdc.createPrincipal(principal + "@" + realm);
            exportPrivately(keytab, file -> kdc.exportPrincipal(principal + "@" + realm, file));
        }
        if (keytool != null)
            finishKeystore(keytool, keystore, dir.resolve("ca.pem"), password);
        exportPrivately(savedKeys, kdc::exportPrincipals);
        writePrivate(dir.resolve("kdc-ready"), "realm " + realm + "\n");
        System.err.println("spark-slurm kdc: realm " + realm + " serving on " + host + ":" + port
            + " (TCP), " + (args.length - 4) + " principal(s)");
        serveUntilStopped(kdc);
    }

    // Puts the saved keys back: krbtgt's (made anew by init()) is replaced, the others added.
    private static void restoreKeys(SimpleKdcServer kdc, File savedKeys) throws Exception {
        Keytab keytab = Keytab.loadKeytab(savedKeys);
        IdentityBackend identities = kdc.getIdentityService();
        for (PrincipalName principal : keytab.getPrincipals()) {
            KrbIdentity identity = new KrbIdentity(principal.getName());
            for (KeytabEntry entry : keytab.getKeytabEntries(principal))
                identity.addKey(entry.getKey());
            if (identities.getIdentity(principal.getName()) != null)
                identities.updateIdentity(identity);
            else
                identities.addIdentity(identity);
        }
    }

    private static void serveUntilStopped(SimpleKdcServer kdc) throws InterruptedException {
        final CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                kdc.stop();
            } catch (Exception e) {
                System.err.println("spark-slurm kdc: while stopping: " + e);
            }
            stopped.countDown();
        }));
        stopped.await();
    }
}
