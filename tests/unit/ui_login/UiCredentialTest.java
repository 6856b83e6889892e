// The UI login's pure part (src/ui_login/UiCredential.java): the token file, the cookie, the
// header and the login link's parameter. Run by ctest with Java's source launcher, on the
// javax jar's class path: java -cp spark-slurm-ui-javax.jar UiCredentialTest.java
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import spark_slurm.ui.UiCredential;

public class UiCredentialTest {
    static int failures = 0;

    static void check(boolean condition, String what) {
        if (!condition) {
            System.err.println("FAILED: " + what);
            failures++;
        }
    }

    static boolean refused(String file) {
        try {
            UiCredential.fromFile(file);
            return false;
        } catch (IllegalStateException expected) {
            return true;
        }
    }

    public static void main(String[] args) throws Exception {
        Path dir = Files.createTempDirectory("ui-credential-test");
        try {
            String token = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
            Path file = dir.resolve("ui-token");
            Files.writeString(file, token + "\n");
            UiCredential credential = UiCredential.fromFile(file.toString());

            check(credential.tokenMatches(token), "the token matches");
            check(!credential.tokenMatches(token.substring(1)), "a shorter token does not");
            check(!credential.tokenMatches(null), "no token does not");
            check(credential.headerMatches(null, token), "the X-Spark-Slurm-Token header");
            check(credential.headerMatches("Bearer " + token, null), "an Authorization: Bearer header");
            check(!credential.headerMatches("Basic " + token, null), "not a Basic header");

            String setCookie = credential.setCookieHeader(false);
            check(setCookie.contains("; HttpOnly") && setCookie.contains("; SameSite=Strict")
                    && setCookie.contains("Path=/") && !setCookie.contains("Secure"), "cookie attributes: " + setCookie);
            check(credential.setCookieHeader(true).endsWith("; Secure"), "Secure over TLS");
            check(!setCookie.contains(token), "the cookie is not the token");
            String pair = setCookie.substring(0, setCookie.indexOf(';'));
            check(credential.cookieMatches(List.of("other=1; " + pair + "; more=2")), "its cookie among others");
            String name = pair.substring(0, pair.indexOf('='));
            check(!credential.cookieMatches(List.of(name + "=" + "0".repeat(64))), "a guessed value");
            check(!credential.cookieMatches(List.of(name + "=" + token)), "the token as a cookie");

            // Another job's credential: its own cookie name, and neither opens the other.
            Path other = dir.resolve("other-token");
            Files.writeString(other, token.replace('0', 'f'));
            UiCredential otherJob = UiCredential.fromFile(other.toString());
            check(!otherJob.cookieName().equals(credential.cookieName()), "cookie names differ per job");
            String otherPair = otherJob.setCookieHeader(false).split(";")[0];
            check(!credential.cookieMatches(List.of(otherPair)), "another job's cookie is refused");
            check(!credential.cookieMatches(List.of(credential.cookieName() + otherPair.substring(otherPair.indexOf('=')))),
                    "another job's cookie value under this job's name is refused");

            check(token.equals(UiCredential.loginValue("a=1&spark-slurm-login=" + token + "&b=2")), "the login value");
            check(UiCredential.loginValue("a=1&b=2") == null, "no login value");
            check(UiCredential.loginValue(null) == null, "no query");
            check(UiCredential.cleanLocation("/app/", "a=1&spark-slurm-login=x&b=2").equals("/app/?a=1&b=2"), "clean location");
            check(UiCredential.cleanLocation("/", "spark-slurm-login=x").equals("/"), "clean location without a query");
            check(UiCredential.cleanLocation("//evil.example/", "spark-slurm-login=x").equals("/evil.example/"),
                    "a redirect never leaves the server");

            String page = UiCredential.loginPage("/app/?a=1&b=\"><script>");
            check(page.contains("content=\"0;url=/app/?a=1&amp;b=&quot;&gt;&lt;script&gt;\""), "the login page's refresh, escaped: " + page);
            check(page.contains("location.replace(\"/app/?a=1\\u0026b=\\u0022\\u003e\\u003cscript\\u003e\" + location.hash)"),
                    "the script keeps the fragment and escapes the address: " + page);
            check(page.indexOf("<script>") == page.lastIndexOf("<script>"), "nothing of the address is markup");

            check(refused(dir.resolve("missing").toString()), "a missing token file is refused");
            Path empty = dir.resolve("empty");
            Files.writeString(empty, "short\n");
            check(refused(empty.toString()), "a token under 32 characters is refused");
            check(refused(""), "no token file named is refused");
            check(!UiCredential.REFUSAL.contains(token), "the refusal says nothing of the job");
        } finally {
            try (var paths = Files.walk(dir)) {
                paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
        if (failures > 0) {
            System.err.println(failures + " check(s) failed");
            System.exit(1);
        }
        System.out.println("UiCredentialTest: all checks passed");
    }
}
