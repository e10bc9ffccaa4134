package io.mlxcap;

import com.fasterxml.jackson.core.JsonProcessingException;

/** Turns Jackson's parse errors into the short reason a user reads after a file name and line. */
public final class JsonErrors {
  private JsonErrors() {}

  /** Returns the first line of Jackson's message without its source-location tail. */
  public static String reason(JsonProcessingException e) {
    String message = e.getOriginalMessage();
    int cut = message.length();
    for (String tail : new String[] {"\n", " (start marker at", " at [Source"}) {
      int i = message.indexOf(tail);
      if (i >= 0) {
        cut = Math.min(cut, i);
      }
    }
    return message.substring(0, cut);
  }
}
