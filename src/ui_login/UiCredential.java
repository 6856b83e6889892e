// The per-job credential of the web UIs (issue 28), free of any servlet API so that the javax
// and the jakarta filter share it: the token's file, the cookie a login turns it into, and the
// checks. The token is a random hex string the leader writes to <job dir>/credentials/ui-token
// (0600, the owner's alone); every Spark and HDFS web server of the job reads it at start.
package spark_slurm.ui;

import java.io.IOException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

public final class UiCredential {
    // The query parameter of the login link (http://HOST:PORT/?spark-slurm-login=TOKEN).
    public static final String LOGIN_PARAMETER = "spark-slurm-login";
    // What a script sends instead of a cookie: "Authorization: Bearer TOKEN" or this header.
    public static final String TOKEN_HEADER = "X-Spark-Slurm-Token";

    private final byte[] token;
    private final String cookieName;
    private final byte[] cookieValue;

    private UiCredential(String token) {
        this.token = token.getBytes(StandardCharsets.UTF_8);
        // A name per job: browsers share cookies between the ports of one host (every tunnel
        // is localhost), so two jobs' cookies must not overwrite each other.
        this.cookieName = "spark-slurm-ui-" + sha256Hex("spark-slurm ui cookie name\n" + token).substring(0, 12);
        // Not the token itself: a cookie read off the wire opens the UIs of this job until it
        // ends, but is not the token a script could use elsewhere.
        this.cookieValue = sha256Hex("spark-slurm ui session\n" + token).getBytes(StandardCharsets.UTF_8);
    }

    // Reads the token from `file`; refuses (so that the web server does not start open) a file
    // that is missing, unreadable, or too short to be a token.
    public static UiCredential fromFile(String file) {
        if (file == null || file.isEmpty())
            throw new IllegalStateException("spark-slurm's UI login filter was given no token file: "
                    + "the web UI stays closed; is the job's spark-defaults.conf or core-site.xml from spark-slurm?");
        final String text;
        try {
            text = Files.readString(Path.of(file), StandardCharsets.UTF_8).trim();
        } catch (IOException e) {
            throw new IllegalStateException("spark-slurm's UI login filter cannot read its token file " + file
                    + " (" + e + "): the web UI stays closed", e);
        }
        if (text.length() < 32)
            throw new IllegalStateException("spark-slurm's UI login filter: " + file
                    + " holds no token (under 32 characters): the web UI stays closed");
        return new UiCredential(text);
    }

    public String cookieName() { return cookieName; }

    // The Set-Cookie header of a login: the browser sends it back to this host only, never from
    // another site's page, and no script of a page can read it.
    public String setCookieHeader(boolean secure) {
        return cookieName + "=" + new String(cookieValue, StandardCharsets.UTF_8)
                + "; Path=/; HttpOnly; SameSite=Strict" + (secure ? "; Secure" : "");
    }

    public boolean tokenMatches(String candidate) {
        return candidate != null
                && MessageDigest.isEqual(token, candidate.trim().getBytes(StandardCharsets.UTF_8));
    }

    // The request's Cookie header(s) hold this job's cookie with its value.
    public boolean cookieMatches(Iterable<String> cookieHeaders) {
        for (String header : cookieHeaders) {
            if (header == null) continue;
            for (String pair : header.split(";")) {
                int equals = pair.indexOf('=');
                if (equals < 0) continue;
                if (!pair.substring(0, equals).trim().equals(cookieName)) continue;
                byte[] value = pair.substring(equals + 1).trim().getBytes(StandardCharsets.UTF_8);
                if (MessageDigest.isEqual(cookieValue, value)) return true;
            }
        }
        return false;
    }

    // The Authorization or X-Spark-Slurm-Token header holds the token.
    public boolean headerMatches(String authorization, String tokenHeader) {
        if (tokenMatches(tokenHeader)) return true;
        return authorization != null && authorization.regionMatches(true, 0, "Bearer ", 0, 7)
                && tokenMatches(authorization.substring(7));
    }

    // The value of the login parameter in a raw query string, or null.
    public static String loginValue(String query) {
        if (query == null) return null;
        for (String pair : query.split("&")) {
            int equals = pair.indexOf('=');
            String name = equals < 0 ? pair : pair.substring(0, equals);
            if (name.equals(LOGIN_PARAMETER))
                return equals < 0 ? "" : URLDecoder.decode(pair.substring(equals + 1), StandardCharsets.UTF_8);
        }
        return null;
    }

    // Where a login redirects to: the same path and query without the login parameter (a
    // relative reference, so that it works behind a tunnel or a proxy alike).
    public static String cleanLocation(String path, String query) {
        StringBuilder kept = new StringBuilder();
        if (query != null) {
            for (String pair : query.split("&")) {
                int equals = pair.indexOf('=');
                String name = equals < 0 ? pair : pair.substring(0, equals);
                if (name.equals(LOGIN_PARAMETER) || pair.isEmpty()) continue;
                kept.append(kept.length() == 0 ? "" : "&").append(pair);
            }
        }
        String target = (path == null || path.isEmpty()) ? "/" : path;
        // "//host" would leave this server: a path never starts with two slashes here.
        while (target.startsWith("//")) target = target.substring(1);
        return kept.length() == 0 ? target : target + "?" + kept;
    }

    // What a login answers (with the cookie): a page that moves on to `location` at once. Not a
    // 303: a browser sends no SameSite=Strict cookie along a redirect chain that another site
    // (or a file, a mail, a chat) started, so the first page after the login would be refused;
    // the refresh is a navigation of this site's own page.
    // The script keeps the link's #fragment (a tab of a page), which the browser never sent
    // here; the refresh is for a browser without scripts.
    public static String loginPage(String location) {
        String escaped = htmlEscaped(location);
        return "<!DOCTYPE html><html><head><meta charset=\"utf-8\">"
                + "<script>location.replace(\"" + jsEscaped(location) + "\" + location.hash)</script>"
                + "<meta http-equiv=\"refresh\" content=\"0;url=" + escaped + "\">"
                + "<title>spark-slurm: logged in</title></head>"
                + "<body><a href=\"" + escaped + "\">Logged in: continue</a></body></html>\n";
    }

    // For a "..." string of a script inside HTML: nothing in it can end the string or the script.
    static String jsEscaped(String text) {
        StringBuilder out = new StringBuilder();
        for (char c : text.toCharArray()) {
            if (Character.isLetterOrDigit(c) || "/?=.-_~:,;+%".indexOf(c) >= 0) {
                out.append(c);
            } else {
                out.append(String.format("\\u%04x", (int) c));
            }
        }
        return out.toString();
    }

    static String htmlEscaped(String text) {
        StringBuilder out = new StringBuilder();
        for (char c : text.toCharArray()) {
            switch (c) {
                case '&': out.append("&amp;"); break;
                case '<': out.append("&lt;"); break;
                case '>': out.append("&gt;"); break;
                case '"': out.append("&quot;"); break;
                case '\'': out.append("&#39;"); break;
                default: out.append(c);
            }
        }
        return out.toString();
    }

    // The body of a refusal: how to get in, and nothing of the job.
    public static final String REFUSAL = "401: this web UI belongs to a spark-slurm job; its owner logs in with "
            + "the link `spark-slurm ui` prints\n";

    private static String sha256Hex(String text) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
            StringBuilder hex = new StringBuilder();
            for (byte b : digest) hex.append(String.format("%02x", b & 0xff));
            return hex.toString();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
