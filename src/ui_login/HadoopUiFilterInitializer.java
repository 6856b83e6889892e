// HDFS's web servers (namenode, datanodes) put the UI login filter in front of every page, /jmx,
// /conf and /logs through this initializer (hadoop.http.filter.initializers in the daemons'
// core-site.xml). Hadoop 3 serves javax.servlet: the javax build of UiLoginFilter.
//   spark-slurm.ui.token.file    the job's ui-token (required: without it the server does not start)
package spark_slurm.ui;

import java.util.HashMap;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.http.FilterContainer;
import org.apache.hadoop.http.FilterInitializer;

public class HadoopUiFilterInitializer extends FilterInitializer {
    @Override
    public void initFilter(FilterContainer container, Configuration conf) {
        String tokenFile = conf.get("spark-slurm.ui.token.file", "");
        // Fail here, at the server's start, rather than at the first request.
        UiCredential.fromFile(tokenFile);
        Map<String, String> parameters = new HashMap<>();
        parameters.put("tokenFile", tokenFile);
        container.addFilter("spark-slurm-ui-login", UiLoginFilter.class.getName(), parameters);
    }
}
