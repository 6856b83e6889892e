// Loads, without initialising them, the classes a Spark driver loaded (the list its
// -XX:DumpLoadedClassList wrote), so that the JVM running this writes them into the class archive
// its -XX:ArchiveClassesAtExit names when it exits. spark-slurm runs it once per Java and Spark
// install after a driver recorded its classes (src/runtime/cds.hpp); drivers and executors map
// the archive afterwards.
//
// Usage: java -XX:ArchiveClassesAtExit=ARCHIVE -cp 'SPARK_HOME/jars/*' \
//            SparkSlurmClassTraining.java CLASS_LIST
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

public final class SparkSlurmClassTraining {
    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: SparkSlurmClassTraining CLASS_LIST");
            System.exit(2);
        }
        ClassLoader loader = ClassLoader.getSystemClassLoader();
        int loaded = 0;
        int missing = 0;
        for (String line : Files.readAllLines(Path.of(args[0]), StandardCharsets.UTF_8)) {
            // Comments, and the lambda and LambdaForm lines only a static dump reads.
            if (line.isEmpty() || line.startsWith("#") || line.startsWith("@")) continue;
            String name = line.split(" ", 2)[0].replace('/', '.');
            try {
                Class.forName(name, false, loader);
                ++loaded;
            } catch (Throwable notHere) {
                // Classes of the user's jars, generated or hidden classes: not in the archive.
                ++missing;
            }
        }
        System.out.println("loaded " + loaded + " classes, " + missing + " not found");
    }
}
