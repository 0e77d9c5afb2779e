//! The playground page driver.
