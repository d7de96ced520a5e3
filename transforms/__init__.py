"""Pure transforms: standardise, consolidate (DuckDB SQL), graph and analyses. No file or network IO."""
